# CareKey — español (Estados Unidos).
# Plain language for patients, "usted": short sentences, no jargon, say what to do next.
# The same ids and variables as en.ftl (this crate's tests check both). A qualified medical
# translator should review this file before a clinic goes live.

portal-name = Portal de pacientes
loading = Cargando…
saving = Guardando…
sign-out = Cerrar sesión
signed-out = Usted cerró la sesión. Gracias.
signed-out-idle = Para proteger su información, cerramos su sesión porque pasó un tiempo sin actividad. Por favor, vuelva a entrar.
back-home = Volver al inicio
back-settings = Volver a la configuración
back-sign-in = Volver al inicio de sesión

## Sign-in
sign-in-title = Entre a su portal de pacientes
sign-in-intro = Use el nombre de usuario o el correo electrónico con que se registró, y su contraseña.
sign-in-identifier = Nombre de usuario o correo electrónico
sign-in-password = Contraseña
sign-in-submit = Iniciar sesión
sign-in-busy = Iniciando sesión…
sign-in-forgot-password = ¿Olvidó su contraseña o su nombre de usuario?
sign-in-missing-fields = Escriba su nombre de usuario (o su correo) y su contraseña.
sign-in-passkey = Entrar con una llave de acceso
sign-in-passkey-cancelled = No se usó ninguna llave de acceso. Puede intentarlo otra vez o entrar con su contraseña.
sign-in-passkey-failed = Esa llave de acceso no sirvió aquí. Entre con su contraseña o pruebe otra llave.

password-show = Mostrar
password-hide = Ocultar
# Accessible names of the show/hide button; they start with the visible word (WCAG 2.5.3).
password-show-field = Mostrar { $field }
password-hide-field = Ocultar { $field }

## Errors: calm, and always a next step
error-sign-in-failed = El nombre de usuario y la contraseña no coinciden con nuestros datos. Revíselos y vuelva a intentarlo.
error-sign-in-locked-maybe = Todavía no pudimos abrir su sesión. Tal vez pausamos la entrada por un tiempo para proteger la cuenta. La forma más rápida de volver a entrar es cambiar su contraseña.
sign-in-pause-rule = Para proteger las cuentas, si hay { $threshold } intentos seguidos que no coinciden, pausamos la entrada por { $duration }. Si siguen, la pausa es más larga. Durante la pausa, ni la contraseña correcta funciona.
sign-in-pause-duration = { $minutes ->
    [one] 1 minuto
   *[other] { $minutes } minutos
}
sign-in-reset-link = Cambie su contraseña
sign-in-reset-ends-pause = (puede hacerlo en cualquier momento, y termina la pausa).
sign-in-call-clinic-phone = Si necesita ayuda, llame a { $clinic } al { $phone }.
sign-in-call-clinic = Si necesita ayuda, llame a { $clinic }.
sign-in-ask-admin = Si necesita ayuda, pregunte a quien maneja el portal en su clínica.
error-not-signed-in = Por favor, inicie sesión para seguir.
error-password-change-required = Por favor, elija una contraseña nueva antes de seguir.
error-forbidden = Usted no tiene acceso a esta página.
error-current-password = Su contraseña actual no es correcta. Vuelva a intentarlo.
error-passwords-differ = Las dos contraseñas nuevas no son iguales. Escríbalas otra vez.
error-invalid-input = No pudimos leer algo del formulario. Revíselo y vuelva a intentarlo.
error-busy = Estamos muy ocupados en este momento. Espere un poco y vuelva a intentarlo.
error-unavailable = No podemos ver nuestros registros en este momento. Vuelva a intentarlo en unos minutos.
error-network = No nos pudimos conectar. Revise su internet y vuelva a intentarlo.
error-not-found = No encontramos ese registro. Tal vez cambió. Búsquelo otra vez.
error-already-exists = Ya tenemos un paciente con ese número de expediente. Búsquelo en vez de agregarlo.
error-too-many-messages = Esta persona ya recibió todos los mensajes que enviamos en un rato. Espere una hora, o dele un código de un solo uso en la recepción.

## Password rules, shown while typing
policy-too-short = { $min ->
    [one] Use por lo menos 1 carácter. Tres o cuatro palabras sin relación entre sí funcionan bien.
   *[other] Use por lo menos { $min } caracteres. Tres o cuatro palabras sin relación entre sí funcionan bien.
}
policy-too-long = { $max ->
    [one] No use más de 1 carácter.
   *[other] No use más de { $max } caracteres.
}
policy-recently-used = Elija una contraseña que no haya usado hace poco.
policy-too-similar = Se parece mucho a su contraseña actual. Elija algo nuevo, no un cambio pequeño.
policy-personal-info = No use su nombre, su nombre de usuario, su correo ni el nombre de la clínica. Es lo primero que alguien probaría.
policy-common = Esta es una de las contraseñas que más usa la gente, o una con repeticiones, números o símbolos de relleno. Elija algo que solo se le ocurra a usted.
policy-needs-mix = Esta clínica pide letras, números y símbolos. Agregue por lo menos uno de cada uno. Un espacio cuenta como símbolo.
hint-common-list-unavailable = No pudimos cargar nuestra lista de contraseñas comunes. Puede que estas ayudas no vean alguna. Igual la vamos a revisar cuando la guarde.
strength-label = Seguridad: { $level }
strength-too-weak = todavía muy débil
strength-good = buena
strength-strong = fuerte
# While a too-short password is still being typed: neutral, not yet a refusal.
strength-keep-going = siga escribiendo
hint-keep-going = { $min ->
    [one] Siga escribiendo: use por lo menos 1 carácter. Unas palabras sin relación entre sí funcionan bien.
   *[other] Siga escribiendo: use por lo menos { $min } caracteres. Unas palabras sin relación entre sí funcionan bien.
}
hint-start = Elija una contraseña larga: por lo menos 15 caracteres. Unas palabras sin relación, como una frase corta, son fáciles de recordar y difíciles de adivinar.
hint-all-met = Esta contraseña cumple todas las reglas.

## Idle logoff
idle-title = ¿Sigue ahí?
idle-body = { $minutes ->
    [one] Por su privacidad, cerraremos su sesión en 1 minuto.
   *[other] Por su privacidad, cerraremos su sesión en { $minutes } minutos.
}
idle-stay = Mantener la sesión abierta

## Portal home
home-greeting = Hola, { $name }
home-nav-label = Menú del portal
home-last-sign-in = Su última entrada fue { $when }.
home-first-sign-in = Esta es la primera vez que entra. ¡Le damos la bienvenida!
home-failed-attempts = { $count ->
    [one] Alguien trató de entrar a su cuenta 1 vez con una contraseña incorrecta antes de esta entrada. Si no fue usted, cambie su contraseña.
   *[other] Alguien trató de entrar a su cuenta { $count } veces con una contraseña incorrecta antes de esta entrada. Si no fue usted, cambie su contraseña.
}

## Settings
settings-title = Configuración
settings-credentials = Datos para entrar
settings-change-password = Cambiar la contraseña
settings-change-username = Cambiar el nombre de usuario
settings-contact = Correo y teléfono
settings-preferences = Preferencias
settings-language = Idioma de los mensajes
# Shown beside the language switch when the other language's page catalogue could not be
# fetched; $language is that language's own name ("Español").
language-switch-failed = { $language } no se cargó. Revise su conexión y vuelva a intentarlo.
language-title = Idioma de los mensajes
language-intro = La clínica le escribe, le manda textos y le llama en este idioma.
language-legend = Idioma
language-hint = Puede cambiarlo cuando quiera.
language-none-yet = Todavía no eligió uno. Hasta que lo elija, los mensajes usan el idioma de la página donde los pidió.
language-missing = Por favor, elija un idioma.
language-save = Guardar
language-saved = Listo. Le vamos a escribir en este idioma.
contact-title = Correo y teléfono
contact-on-file = Lo que tenemos ahora
contact-none = No tenemos un correo ni un teléfono suyo. Llame a la clínica para agregar uno.
contact-change = Agregar o cambiar
contact-which = ¿Qué quiere cambiar?
contact-kind-email = Correo electrónico
contact-kind-mobile = Celular (mensajes de texto)
contact-kind-landline = Teléfono de casa (solo llamadas)
contact-new-email = Correo electrónico nuevo
contact-new-phone = Número de teléfono nuevo
contact-code-hint = Le enviaremos un código ahí para confirmar que es suyo. Nada cambia hasta que lo escriba aquí.
contact-missing = Escriba el correo o el teléfono nuevo y su contraseña actual.
contact-send-code = Enviar un código
contact-code-sent = { $minutes ->
    [one] Enviamos un código de 8 números a { $destination } (referencia { $reference }). Vence en 1 minuto. Escríbalo aquí para terminar.
   *[other] Enviamos un código de 8 números a { $destination } (referencia { $reference }). Vence en { $minutes } minutos. Escríbalo aquí para terminar.
}
contact-confirm = Confirmar
contact-start-over = Empezar de nuevo
contact-done = Listo. Cambiamos sus datos de contacto y les avisamos a los que tenía antes.
error-contact-invalid = Eso no parece un correo, ni un teléfono al que podamos enviar códigos. Revíselo, o llame a la clínica.
username-change-title = Cambiar el nombre de usuario
username-change-new = Nombre de usuario nuevo
username-change-hint = De 3 a 64 letras o números. Puede usar puntos, guiones, guiones bajos y @. No importa si usa mayúsculas.
username-change-save = Guardar el nombre de usuario
username-change-done = Su nombre de usuario ahora es { $username }. Úselo la próxima vez que entre. Enviamos un aviso a sus contactos.
error-username-taken = Ese nombre de usuario ya está en uso. Elija otro.
error-username-invalid = El nombre de usuario tiene de 3 a 64 letras o números. Puede usar puntos, guiones, guiones bajos y @.
devices-title = Dispositivos con sesión abierta
devices-this-one = { $device } (este dispositivo)
devices-times = Entró { $signed_in }. Su última actividad fue { $active }.
devices-sign-out-others = Cerrar la sesión en los demás
devices-remembered-title = Navegadores que no piden el código
devices-remembered-until = Allí se pide su contraseña, pero no el código, hasta el { $until }. "Cerrar la sesión en los demás" hace que lo pidan otra vez.
devices-signed-out = { $count ->
    [0] No había otros dispositivos con la sesión abierta.
    [one] Cerramos la sesión en 1 dispositivo más.
   *[other] Cerramos la sesión en { $count } dispositivos más.
}

change-title = Cambiar la contraseña
change-current-password = Contraseña actual
change-temporary-password = Contraseña temporal
change-new-password = Contraseña nueva
change-repeat-password = Repita la contraseña nueva
change-save = Guardar
change-done = Cambiamos su contraseña. Su sesión sigue abierta aquí. Cerramos la sesión en los demás dispositivos.

forced-title = Elija su propia contraseña
forced-intro = Usted entró con una contraseña temporal. Antes de seguir, elija una contraseña nueva que solo usted sepa.
forced-proof-expired = Esta página estuvo abierta un rato. Para su seguridad, escriba otra vez la contraseña temporal de la clínica. Luego escriba dos veces su contraseña nueva.
change-missing-temporary = Escriba la contraseña temporal que le dio la clínica.
change-missing-current = Escriba su contraseña actual.

## Forgot password
forgot-title = ¿Olvidó su contraseña?
forgot-call-clinic = Llame a la clínica. La recepción puede cambiar la contraseña de su portal después de confirmar quién es usted.
recover-intro = Díganos quién es y cómo quiere recibir un código. Solo enviamos códigos al correo o al teléfono que la clínica ya tiene de usted.
recover-username = Nombre de usuario
recover-email = Correo electrónico
recover-missing-username = Escriba su nombre de usuario.
recover-missing-email = Escriba su correo electrónico.
recover-missing-identifier = Escriba su nombre de usuario o su correo.
recover-missing-both = Escriba su nombre de usuario y su correo.
recover-how = ¿Cómo quiere que le avisemos?
recover-how-hint = Elija una forma. Si no tenemos esa forma para usted, no enviamos nada. Pruebe otra forma o llame a la clínica.
recover-channel-email-link = Envíenme un enlace por correo
recover-channel-email-code = Envíenme un código por correo
recover-channel-sms = Envíenme un código por texto
recover-channel-voice = Llámenme con un código
recover-send = Enviar
sending = Enviando…
checking = Revisando…
recover-forgot-username-link = ¿Olvidó su nombre de usuario?
recover-call-instead = ¿Cambió su correo o su teléfono, o no le sirve ninguno? Llame a { $clinic }. La recepción le puede ayudar después de confirmar quién es usted.
recover-call-instead-phone = ¿Cambió su correo o su teléfono, o no le sirve ninguno? Llame a { $clinic } al { $phone }. La recepción le puede ayudar después de confirmar quién es usted.
recover-check-email = Revise su correo
recover-check-texts = Revise sus mensajes de texto
recover-check-calls = Conteste su teléfono
recover-sent-email-link = { $minutes ->
    [one] Si hay una cuenta con esos datos y tiene un correo, le enviamos ahí un enlace. Sirve una sola vez y vence en 1 minuto.
   *[other] Si hay una cuenta con esos datos y tiene un correo, le enviamos ahí un enlace. Sirve una sola vez y vence en { $minutes } minutos.
}
recover-sent-email-code = { $minutes ->
    [one] Si hay una cuenta con esos datos y tiene un correo, le enviamos ahí un código de 8 números. Vence en 1 minuto.
   *[other] Si hay una cuenta con esos datos y tiene un correo, le enviamos ahí un código de 8 números. Vence en { $minutes } minutos.
}
recover-sent-sms = { $minutes ->
    [one] Si hay una cuenta con esos datos y tiene un celular, le enviamos un código de 8 números por texto. Vence en 1 minuto.
   *[other] Si hay una cuenta con esos datos y tiene un celular, le enviamos un código de 8 números por texto. Vence en { $minutes } minutos.
}
recover-sent-voice = { $minutes ->
    [one] Si hay una cuenta con esos datos y tiene un teléfono, estamos llamando a ese número ahora para leerle un código de 8 números. Vence en 1 minuto.
   *[other] Si hay una cuenta con esos datos y tiene un teléfono, estamos llamando a ese número ahora para leerle un código de 8 números. Vence en { $minutes } minutos.
}
# How the patient tells the newest message from older ones, in the words each channel uses
# (the server puts the reference in an email's subject, after a text's code, and spells it at
# the end of a call).
recover-reference-email = El asunto de nuestro correo muestra { $reference }. Así sabe que es el más nuevo.
recover-reference-sms = Justo después del código, nuestro texto muestra { $reference }. Así sabe que es el más nuevo.
recover-reference-voice = Al final de la llamada, deletreamos { $reference }. Así sabe que es la más nueva.
recover-code = Código
recover-code-hint = 8 números. Puede usar espacios.
recover-code-format = Los códigos tienen 8 números. Revise el mensaje y escriba el código otra vez.
recover-continue = Continuar
recover-newest-email = Use el código del correo más nuevo: el que muestra { $reference } en el asunto.
recover-newest-sms = Use el código del texto más nuevo: el que muestra { $reference } después del código.
recover-newest-voice = Use el código de la llamada más nueva: la que deletreó { $reference } al final.
# A code that expired or was used cannot come back: the page leads with the one way on.
recover-code-expired = Ese código venció. Pida un código nuevo para seguir.
recover-code-used = Ese código ya se usó. Pida un código nuevo para seguir.
recover-resend-code = Enviar un código nuevo
recover-resend-link = Enviar un enlace nuevo
recover-resend-wait = { $seconds ->
    [one] Puede pedirlo otra vez en 1 segundo.
   *[other] Puede pedirlo otra vez en { $seconds } segundos.
}
recover-resent = Si hay una cuenta con esos datos, le enviamos uno nuevo, marcado { $reference }. Los códigos y enlaces de antes ya no sirven.
recover-another-way = Probar de otra forma
recover-have-clinic-code = Tengo un código de la clínica
recover-clinic-code-title = Use un código de la clínica
recover-clinic-code-intro = Si la clínica le dio un código de un solo uso, en la recepción, por teléfono o en una carta, escríbalo aquí. Escriba también lo que usa para entrar. Luego elegirá una contraseña nueva.
recover-nothing-arrived = ¿No le llegó nada?
tip-expiry = Los códigos y los enlaces vencen. Si el suyo venció, pida uno nuevo.
tip-call-clinic = ¿Todavía tiene problemas? Llame a { $clinic }. La recepción le puede ayudar después de confirmar quién es usted.
tip-call-clinic-phone = ¿Todavía tiene problemas? Llame a { $clinic } al { $phone }. La recepción le puede ayudar después de confirmar quién es usted.
recover-new-title = Elija una contraseña nueva
recover-confirmed-code = Gracias: el código que enviamos a { $contact } funcionó.
recover-confirmed-link = Gracias: el enlace que enviamos a { $contact } funcionó.
recover-confirmed-clinic = Gracias: el código de la clínica funcionó.
recover-save = Guardar la contraseña nueva
recover-done-title = Cambiamos su contraseña
recover-done-body = Para su seguridad, cerramos la sesión en todos los dispositivos y enviamos un aviso a sus contactos. Entre con su contraseña nueva.
recover-done-sign-in = Iniciar sesión
recover-link-title = Cambie su contraseña
recover-link-body = Le enviamos este enlace a { $contact }. Ahora toque Continuar y elija una contraseña nueva.
recover-link-problem-title = No se puede usar este enlace o código
recover-get-new = Pedir un código o enlace nuevo
code-not-accepted = Ese código no funcionó. Revise que escribió el más nuevo. Si se equivoca varias veces, el código deja de servir. Entonces pida uno nuevo.
code-expired = Ese código o enlace venció. Pida uno nuevo.
code-used = Ese código o enlace ya se usó. Si no terminó, pida uno nuevo.
code-replaced = Después de este código o enlace enviamos uno más nuevo, así que este ya no sirve. Use el mensaje más nuevo.
error-security-answer = Esa respuesta no coincide. Vuelva a intentarlo.
tip-original-email = Use el correo con el que se registró. Si su correo cambió, avise a la recepción.
tip-spam = Si espera un mensaje nuestro, revise la carpeta de correo no deseado, spam o promociones.
tip-official-page = Use siempre la página oficial del portal de la clínica, no un enlace de un buscador.
# Tips for a text or a call. The same for everyone who asks (SECURITY.md E1): they describe
# how CareKey sends, never what one account has on file.
tip-sms-app = Busque en su aplicación de mensajes. Algunos teléfonos ponen los textos de números que no conocen en "Desconocidos" o "Spam".
tip-sms-number = Solo enviamos textos al celular que tiene la clínica. Si su número cambió, la recepción lo puede cambiar después de confirmar quién es usted.
tip-sms-landline = Un teléfono de casa (fijo) no recibe textos. Si es su único teléfono, elija "Probar de otra forma" y luego "Llámenme con un código".
tip-voice-answer = La llamada es de la clínica. Tenga su teléfono cerca y conteste, aunque no conozca el número que aparece.
tip-voice-number = Solo llamamos al teléfono que tiene la clínica. Puede ser un celular o un teléfono de casa (fijo). Si su número cambió, la recepción lo puede cambiar después de confirmar quién es usted.
tip-voice-missed = ¿No contestó la llamada? Pida un código nuevo y le llamaremos otra vez.

## Forgot username
username-title = ¿Olvidó su nombre de usuario?
username-intro = Le enviaremos su nombre de usuario al correo o al teléfono que tiene la clínica. Puede ser por correo, por texto, o por una llamada a un teléfono de casa que se lo lee. Nunca lo mostramos en esta página.
username-how = ¿Cómo buscamos su cuenta?
username-by-contact = Con mi correo o mi número de teléfono
username-by-demographics = Con mi nombre, mi fecha de nacimiento y mi código postal
username-contact = Correo o número de teléfono
username-contact-hint = Use el que le dio a la clínica.
username-first-name = Nombre
username-last-name = Apellido
username-dob = Fecha de nacimiento
username-zip = Código postal
username-missing = Llene todos los espacios.
username-send = Enviar mi nombre de usuario
username-forgot-password-link = ¿Más bien olvidó su contraseña?
username-sent-title = Revise su correo o su teléfono
username-sent-body = Si solo una cuenta tiene esos datos, enviamos su nombre de usuario al correo o al teléfono que tenemos. Un teléfono de casa recibe una llamada que lee el nombre de usuario. Puede tardar unos minutos.

## "This wasn't me" (SECURITY.md M8): the page a security notice's link opens
not-me-title = ¿No fue usted?
not-me-body = Si usted no hizo el cambio de nuestro mensaje, oprima Continuar. Nosotros:
not-me-will-sign-out = Cerraremos su sesión en todos sus teléfonos y computadoras.
not-me-will-pause = Pausaremos los cambios de contraseña por correo o texto durante un día.
not-me-will-lock = Bloquearemos la entrada hasta que la clínica le ayude.
not-me-will-tell = Avisaremos a la clínica, para que el personal le ayude.
not-me-continue = Continuar
not-me-busy = Enviando…
not-me-was-me = Sí fui yo. Ir a iniciar sesión.
not-me-done-title = Gracias. Su cuenta está más segura.
not-me-done-body = Cerramos su sesión en todas partes, bloqueamos la entrada y avisamos a la clínica. Llámenos para ayudarle a entrar de nuevo con seguridad.
not-me-call-phone = Llame a { $clinic } al { $phone }.
not-me-call = Llame a { $clinic }.
not-me-refused-title = Este enlace no funciona
not-me-expired = Este enlace es muy antiguo. Si alguien cambió su cuenta, llámenos ahora.
not-me-not-accepted = No pudimos leer este enlace. Si alguien cambió su cuenta, llámenos ahora.

## Two-step verification

second-step-title = Verificación en dos pasos
second-step-app-intro = Abra su app de códigos. Escriba el código de 6 números que ve para esta clínica.
second-step-backup-intro = Escriba uno de los códigos de recuperación que guardó. Cada código sirve una sola vez.
second-step-passkey-intro = Use su llave de acceso. Su teléfono o computadora le pedirá su huella, su cara o el bloqueo de pantalla.
second-step-passkey-submit = Usar mi llave de acceso
second-step-passkey-failed = Esa llave de acceso no sirvió. Inténtelo otra vez o pruebe de otra forma.
second-step-passkey-cancelled = No se usó ninguna llave de acceso. Inténtelo otra vez o pruebe de otra forma.
second-step-app-label = Código de 6 dígitos
second-step-backup-label = Código de recuperación
second-step-submit = Verificar
second-step-busy = Revisando…
second-step-missing = Escriba el código, por favor.
second-step-remember = { $days ->
    [one] No pedir el código en este navegador por 1 día
   *[other] No pedir el código en este navegador por { $days } días
}
second-step-remember-hint = Solo en una computadora o teléfono que use solo usted. Se sigue pidiendo su contraseña.
second-step-other-way = Probar de otra forma
second-step-use-app = Usar mi aplicación de autenticación
second-step-use-backup = Usar un código guardado
second-step-use-passkey = Usar una llave de acceso
second-step-start-over = Empezar de nuevo
second-step-expired = Por su seguridad, ese inicio de sesión terminó. Inicie sesión otra vez, por favor.
error-second-step-failed = Ese código no funcionó. Revíselo e inténtelo de nuevo. El código de la aplicación cambia cada 30 segundos.
error-second-step-setup-required = Agregue un segundo paso de inicio de sesión antes de continuar, por favor.
error-last-second-step = Su clínica pide a todos usar la verificación en dos pasos, así que no puede quitar su único método. Agregue otro primero.
error-passkey-not-accepted = No se pudo agregar esa llave de acceso. Tal vez ya está en su cuenta. Inténtelo otra vez o use otro teléfono o computadora.
two-step-title = Verificación en dos pasos
two-step-intro = Un segundo paso protege su cuenta aunque alguien sepa su contraseña. Después de la contraseña, le pedimos un código de una aplicación en su teléfono.
two-step-required-notice = Su clínica pide a todos agregar un segundo paso de inicio de sesión. Agregue uno ahora para continuar, por favor.
two-step-methods = Sus métodos de inicio de sesión
two-step-none = Todavía no agregó un segundo paso.
two-step-kind-app = Aplicación de autenticación
two-step-kind-passkey = Llave de acceso
two-step-added = Agregado el { $when }.
two-step-last-used = Usado por última vez el { $when }.
two-step-never-used = Todavía no se usó.
two-step-remove = Quitar { $name }
two-step-remove-confirm = Quitarlo
two-step-removed = Se quitó { $name }.
two-step-only-one = Este es su único método. Agregue otro antes de quitarlo.
two-step-password-missing = Escriba su contraseña actual, por favor.
two-step-add-app = Agregar una aplicación de autenticación
two-step-app-explain = Sirve cualquier app gratis de códigos. Dos de ellas son Google Authenticator y Microsoft Authenticator. Muchos teléfonos ya traen una.
two-step-name = Nombre para esta aplicación
two-step-name-hint = Opcional. Por ejemplo: Mi teléfono.
two-step-start = Configurar una aplicación
two-step-scan = Abra la aplicación y escanee este código con la cámara de su teléfono.
two-step-qr-label = Un código para que lo escanee su aplicación de autenticación
two-step-key-intro = ¿No puede escanearlo? Escriba esta clave en la aplicación:
two-step-code = El código de 6 dígitos que muestra la aplicación ahora
two-step-confirm = Activarla
two-step-confirm-missing = Escriba el código de la aplicación y su contraseña actual, por favor.
two-step-password-again = Para seguir, escriba su contraseña.
two-step-setup-code-wrong = Ese código no funcionó. Escriba el código que muestra la aplicación ahora: cambia cada 30 segundos. Si sigue sin funcionar, revise que su teléfono ponga la hora solo.
two-step-added-app = Su app de códigos ya está lista.
two-step-add-passkey = Agregar una llave de acceso
two-step-passkey-name = Nombre para esta llave de acceso
two-step-passkey-explain = Con una llave de acceso, usted entra con su huella, su cara o el bloqueo de pantalla. No necesita su contraseña. La llave se queda en su teléfono o computadora, y un sitio falso no la puede robar.
two-step-passkey-name-hint = Opcional. Por ejemplo: Mi computadora.
two-step-passkey-start = Agregar una llave de acceso
two-step-passkey-cancelled = No se hizo ninguna llave de acceso. Puede intentarlo otra vez cuando quiera.
two-step-added-passkey = Su llave de acceso ya está lista. La próxima vez puede entrar con ella.
second-step-sent-intro = Le enviamos un código a un teléfono o correo que tenemos. Elija a dónde, oprima Enviar y escriba el código de 8 dígitos.
second-step-sent-label = Código que le enviamos
second-step-use-sent = Envíenme un código
second-step-sent-where = A dónde enviar el código
second-step-send = Enviar un código
second-step-send-again = Enviar un código nuevo
second-step-sent-none = No podemos enviarle un código ahora. Pruebe otra forma, o llame a la clínica.
second-step-sent = Le enviamos { $where } (referencia { $reference }). Sirve por 5 minutos.
two-step-route-text = un texto al { $masked }
two-step-route-call = una llamada al { $masked }
two-step-route-email = un correo a { $masked }
two-step-kind-sent = Códigos que le enviamos
two-step-add-sent = Recibir códigos por texto o llamada
two-step-sent-explain = Cuando entre, le enviaremos un código a un teléfono que tenemos. Lo escribe después de su contraseña.
two-step-sent-where = A dónde enviar los códigos
two-step-sent-start = Enviar un código para probar
two-step-sent-sent = Le enviamos { $where } (referencia { $reference }). Ahora escriba el código.
two-step-sent-code = Código que le enviamos
two-step-sent-code-wrong = Ese código no funcionó. Busque nuestro mensaje más nuevo e intente otra vez.
two-step-added-sent = Listo. Cuando entre, le enviaremos un código.
two-step-codes-title = Códigos de recuperación
two-step-codes-left = { $count ->
    [0] No le quedan códigos de recuperación. Haga códigos nuevos, por favor.
    [one] Le queda 1 código de recuperación.
   *[other] Le quedan { $count } códigos de recuperación.
}
two-step-codes-regenerate-hint = Los códigos nuevos toman el lugar de los viejos. Los viejos ya no sirven.
two-step-codes-regenerate = Hacer códigos de recuperación nuevos
two-step-codes-save-title = Guarde sus códigos de recuperación
two-step-codes-save-intro = Si pierde su teléfono, cada código de abajo le permite iniciar sesión una vez. Guárdelos en un lugar seguro. Solo se los mostramos ahora.
two-step-codes-copy = Copiar
two-step-codes-copied = Se copiaron los códigos.
two-step-codes-copy-failed = No se pudieron copiar. Escríbalos o imprímalos, por favor.
two-step-codes-download = Descargar
two-step-codes-print = Imprimir
two-step-codes-saved = Ya guardé mis códigos

## Staff console

not-found-title = No encontramos la página
not-found-body = No encontramos esa página. Tal vez se movió.
