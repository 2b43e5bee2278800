# CareKey — the server's emails, texts and call scripts. Spanish (United States), "usted".
#
# The same ids and variables as en-messages.ftl (this crate's tests check both); see that file
# for what each variable holds. A qualified medical translator should review this file before
# a clinic goes live.
#
# Texts (ids ending in -sms) must fit one SMS segment: 160 characters in GSM-7 with a
# 40-character clinic name, a 64-character username and the Web OTP line the server adds.
# á, í, ó and ú are not GSM-7 (one of them turns the whole text into UCS-2, 70 characters),
# so the texts are worded without them: "escriba 12345678", not "su código es";
# "¿No fue usted?", not "¿No lo pidió?". ñ, é, ü, ¿ and ¡ are GSM-7.

## Shared pieces
call-us = llame a { $clinic } al { $phone }
call-us-no-phone = llame a { $clinic }
expiry-minutes = { $minutes ->
    [one] { $minutes } minuto
   *[other] { $minutes } minutos
}
expiry-hours = { $hours ->
    [one] { $hours } hora
   *[other] { $hours } horas
}
sign-in-at = Entre al portal en { $url }.
code-reference = Referencia: { $reference }. El código vence en { $expiry } y sirve una sola vez.
nothing-to-do = Si fue usted, no tiene que hacer nada más.

## Calls: the code is read one digit at a time, twice, then a repeat offer
voice-code = Su código es: { $spelled }.
voice-code-again = Otra vez, su código es: { $spelled }.
voice-outro = La referencia del mensaje es { $spelled }. El código vence en { $expiry }. Si usted no lo pidió, puede colgar.
voice-repeat = Para escuchar el código otra vez, oprima 1.
voice-goodbye = Adiós.
# Symbols in a username, said as words when a call spells it
voice-char-dot = punto
voice-char-dash = guion
voice-char-underscore = guion bajo
voice-char-at = arroba

## Notices by call, only to patients with no email and no phone that takes texts. Said twice.
## They name no new username, email or number: anyone may answer a shared landline.
voice-notice-intro = Hola. Le llama { $clinic }. Tenemos un mensaje sobre su cuenta del portal de pacientes.
voice-notice-again = Otra vez: { $statement }
voice-notice-not-you = Si no fue usted, { $call-us } de inmediato.
voice-notice-repeat = Para escuchar este mensaje otra vez, oprima 1.

## A password reset code
reset-code-subject = Su código para cambiar la contraseña (ref. { $reference })
reset-code-intro = Usted pidió cambiar la contraseña de su portal de pacientes de { $clinic }. Su código es:
reset-code-where = Escríbalo en la página donde lo pidió.
reset-not-you = Si usted no pidió cambiar su contraseña, puede ignorar este mensaje. Su contraseña no ha cambiado. Si esto pasa otra vez, { $call-us }.
reset-code-sms = { $clinic }: para cambiar su contraseña, escriba { $code } (ref. { $reference }). Vence en { $expiry }.
reset-code-voice-intro = Hola. Le llama { $clinic }. Este es su código para cambiar la contraseña de su portal de pacientes.


## A code sent as the second step of a sign-in (issue 12), or to confirm that method
sign-in-code-subject = Su código para entrar (referencia { $reference })
sign-in-code-intro = Este es el código que pidió en su portal de pacientes de { $clinic }:
sign-in-code-where = Escríbalo en la página para entrar. No se lo dé a nadie, ni a quien diga que trabaja en la clínica.
sign-in-code-not-you = Si usted no lo pidió, alguien puede saber su contraseña. Cámbiela, o { $call-us }.
sign-in-code-sms = { $clinic }: su clave para entrar es { $code } (ref. { $reference }). Vence en { $expiry }. No la comparta.
sign-in-code-voice-intro = Hola. Le llama { $clinic }. Este es su código para entrar a su portal de pacientes.

## A password reset link (the link itself is inserted by the server)
reset-link-subject = Cambie su contraseña (referencia { $reference })
reset-link-intro = Usted pidió cambiar su contraseña. Es para su portal de pacientes de { $clinic }.
reset-link-open = Abra este enlace. Luego toque Continuar para elegir una contraseña nueva:
reset-link-button = Elegir una contraseña nueva
reset-link-reference = Referencia: { $reference }. El enlace vence en { $expiry } y sirve una sola vez.
reset-link-not-you = Si usted no pidió cambiar su contraseña, puede ignorar este correo. Su contraseña no ha cambiado. Si esto pasa otra vez, { $call-us }.

## The username, sent only to a contact on file
username-subject = Su nombre de usuario del portal de pacientes
username-intro = Usted pidió su nombre de usuario del portal de pacientes de { $clinic }. Aquí está:
username-not-you = Si usted no lo pidió, puede ignorar este mensaje. Si tiene preguntas, { $call-us }.
username-sms = { $clinic }: su usuario del portal es { $username }. ¿No fue usted? Ignore esto.
username-voice-intro = Hola. Le llama { $clinic }. Este es el nombre de usuario del portal que usted pidió.
username-voice = Su nombre de usuario es: { $spelled }.
username-voice-again = Otra vez, su nombre de usuario es: { $spelled }.
username-voice-outro = Si usted no lo pidió, puede colgar.
username-voice-repeat = Para escuchar su nombre de usuario otra vez, oprima 1.

## Staff set up sign-in. It names no password or code: those are on the printed letter only.
credentials-subject = Su acceso al portal de pacientes
credentials-intro = { $clinic } le dio acceso a su portal de pacientes. Su nombre de usuario es:
credentials-letter-activation = La carta que le dio la clínica tiene un código de activación. Sirve una sola vez. En la página para entrar, elija "¿Olvidó su contraseña o su nombre de usuario?". Luego elija "Tengo un código de la clínica". Escriba su nombre de usuario y ese código. Así podrá elegir su propia contraseña.
credentials-letter-password = La carta que le dio la clínica tiene una contraseña temporal. Entre con su nombre de usuario y esa contraseña. Luego le pediremos que elija una propia.
credentials-not-you = Si usted no le pidió esto a la clínica, { $call-us } para que le podamos ayudar.

## A code confirming a new email address or phone number
contact-code-subject = Su código para su nuevo correo (referencia { $reference })
contact-code-intro = Usted pidió agregar este correo a su portal de pacientes de { $clinic }. Escriba este código:
contact-code-not-you = Si usted no lo pidió, puede ignorar este mensaje. No cambiará nada.
contact-code-sms = { $clinic }: para agregar este celular, escriba { $code } (ref. { $reference }). Vence en { $expiry }.
contact-code-voice-intro = Hola. Le llama { $clinic }. Este es su código para agregar este teléfono a su portal de pacientes.

## An email address or phone number changed. $kind is email, mobile or landline.
contact-none = ninguno
contact-changed-subject = { $kind ->
    [email] Se cambió el correo electrónico de su portal
    [mobile] Se cambió el número de celular de su portal
   *[landline] Se cambió el número de teléfono de su portal
}
contact-changed-intro = { $kind ->
    [email] Se acaba de cambiar el correo de su portal de pacientes de { $clinic }. Lo que tenemos ahora: { $new-value }.
    [mobile] Se acaba de cambiar el celular de su portal de pacientes de { $clinic }. Lo que tenemos ahora: { $new-value }.
   *[landline] Se acaba de cambiar el teléfono de su portal de pacientes de { $clinic }. Lo que tenemos ahora: { $new-value }.
}
contact-changed-not-you = Si no fue usted, { $call-us } de inmediato. Le ayudaremos a proteger su cuenta.
contact-changed-sms = { $kind ->
    [email] { $clinic }: cambiaron su correo del portal. { $not-you }
    [mobile] { $clinic }: cambiaron su celular del portal. { $not-you }
   *[landline] { $clinic }: cambiaron su teléfono del portal. { $not-you }
}
contact-changed-voice = { $kind ->
    [email] Se acaba de cambiar el correo de su cuenta del portal de pacientes.
    [mobile] Se acaba de cambiar el celular de su cuenta del portal de pacientes.
   *[landline] Se acaba de cambiar el teléfono de su cuenta del portal de pacientes.
}

## The username changed
username-changed-subject = Se cambió su nombre de usuario del portal
username-changed-intro = Se acaba de cambiar su nombre de usuario del portal de pacientes de { $clinic }. Ahora es:
username-changed-not-you = Si no fue usted, { $call-us } de inmediato.
username-changed-sms = { $clinic }: cambiaron su usuario del portal. { $not-you }
username-changed-voice = Se acaba de cambiar su nombre de usuario del portal de pacientes.

## The password changed. $how is owner (the person changed it), reset (a recovery reset) or
## clinic (staff reset it).
password-changed-subject = Se cambió la contraseña de su portal
password-changed-intro = { $how ->
    [owner] Se acaba de cambiar la contraseña de su portal de pacientes de { $clinic }. Cerramos la sesión en todos los dispositivos donde estaba abierta.
    [reset] Se acaba de restablecer la contraseña de su portal de pacientes de { $clinic }. Cerramos la sesión en todos los dispositivos donde estaba abierta.
   *[clinic] La clínica le dio una contraseña nueva para su portal de pacientes de { $clinic }. Cerramos la sesión en todos los dispositivos donde estaba abierta.
}
password-changed-not-you = Si no fue usted, { $call-us } de inmediato. Podemos bloquear su cuenta y ayudarle.
password-changed-sms = { $how ->
    [owner] { $clinic }: su contraseña ha cambiado. { $not-you }
    [reset] { $clinic }: su contraseña fue restablecida. { $not-you }
   *[clinic] { $clinic }: le dimos una contraseña nueva. { $not-you }
}
password-changed-voice = { $how ->
    [owner] Se acaba de cambiar la contraseña de su portal de pacientes. Cerramos la sesión en todos los dispositivos donde estaba abierta.
    [reset] Se acaba de restablecer la contraseña de su portal de pacientes. Cerramos la sesión en todos los dispositivos donde estaba abierta.
   *[clinic] La clínica le dio una contraseña nueva para su portal de pacientes. Cerramos la sesión en todos los dispositivos donde estaba abierta.
}

## Two-step verification changed. $what is app_added, app_removed, passkey_added,
## passkey_removed, code_used (a saved recovery
## code signed in; $left are still unused), codes_renewed, device_remembered or clinic_reset (staff removed them all).
two-step-changed-subject = { $what ->
    [passkey_added] Se agregó una llave de acceso a su portal
    [passkey_removed] Se quitó una llave de acceso de su portal
    [app_added] Se agregó una aplicación de autenticación a su portal
    [app_removed] Se quitó una aplicación de autenticación de su portal
    [code_used] Se usó un código de recuperación para entrar a su portal
    [clinic_reset] La clínica quitó el inicio de sesión en dos pasos de su portal
    [device_remembered] Un navegador no pedirá el código en su portal
    [sent_code_added] Le daremos un código cada vez que entre
    [sent_code_removed] Ya no le enviaremos códigos para entrar
   *[codes_renewed] Tiene códigos nuevos para su portal
}
two-step-changed-intro = { $what ->
    [passkey_added] Se acaba de agregar una llave de acceso a su portal de pacientes de { $clinic }. Ahora puede entrar con su huella, su cara o el bloqueo de pantalla.
    [passkey_removed] Se acaba de quitar una llave de acceso de su portal de pacientes de { $clinic }. Ya no puede entrar con ella.
    [app_added] Se acaba de agregar una aplicación de autenticación a su portal de pacientes de { $clinic }. Cada inicio de sesión ahora pide un código de ella.
    [app_removed] Se acaba de quitar una aplicación de autenticación de su portal de pacientes de { $clinic }.
    [code_used] Se acaba de usar uno de sus códigos de recuperación para entrar a su portal de pacientes de { $clinic }. { $left ->
        [0] No le quedan códigos. Haga códigos nuevos en Configuración, por favor.
        [one] Le queda 1 código.
       *[other] Le quedan { $left } códigos.
    }
    [clinic_reset] Como usted pidió, { $clinic } quitó la app de códigos y los códigos guardados de su portal de pacientes. Puede agregar una app nueva cuando entre.
    [device_remembered] Un navegador entró a su portal de pacientes de { $clinic } y pidió no pedir el código la próxima vez. Todavía necesita su contraseña.
    [sent_code_added] Su portal de pacientes de { $clinic } ahora le enviará un código para entrar, por texto, llamada o correo, cuando lo pida.
    [sent_code_removed] Su portal de pacientes de { $clinic } ya no le enviará códigos para entrar.
   *[codes_renewed] Acaba de hacer códigos de recuperación nuevos para su portal de pacientes de { $clinic }. Los anteriores ya no funcionan.
}
two-step-changed-sms = { $what ->
    [passkey_added] { $clinic }: agregaron una llave de acceso. { $not-you }
    [passkey_removed] { $clinic }: quitaron una llave de acceso. { $not-you }
    [app_added] { $clinic }: agregaron una app de 2 pasos. { $not-you }
    [app_removed] { $clinic }: quitaron su app de 2 pasos. { $not-you }
    [code_used] { $clinic }: entraron con una clave guardada. { $not-you }
    [clinic_reset] { $clinic }: quitamos su entrada en 2 pasos. { $not-you }
    [device_remembered] { $clinic }: recordamos un navegador nuevo. { $not-you }
    [sent_code_added] { $clinic }: le enviaremos claves para entrar. { $not-you }
    [sent_code_removed] { $clinic }: ya no le enviaremos claves. { $not-you }
   *[codes_renewed] { $clinic }: hay claves guardadas nuevas. { $not-you }
}
two-step-changed-voice = { $what ->
    [passkey_added] Se acaba de agregar una llave de acceso a su portal de pacientes.
    [passkey_removed] Se acaba de quitar una llave de acceso de su portal de pacientes.
    [app_added] Se acaba de agregar una aplicación de autenticación a su portal de pacientes.
    [app_removed] Se acaba de quitar una aplicación de autenticación de su portal de pacientes.
    [code_used] Se acaba de usar uno de sus códigos de recuperación para entrar a su portal de pacientes.
    [clinic_reset] La clínica acaba de quitar la app de códigos y los códigos guardados de su portal de pacientes.
    [device_remembered] Un navegador entró a su portal de pacientes y no pedirá el código la próxima vez.
    [sent_code_added] Su portal de pacientes ahora le enviará códigos para entrar.
    [sent_code_removed] Su portal de pacientes ya no le enviará códigos para entrar.
   *[codes_renewed] Se acaban de hacer códigos de recuperación nuevos para su portal de pacientes. Los anteriores ya no funcionan.
}

## The printed credentials or activation letter. $forgot and $have-code are the Spanish
## sign-in page's own link names (es.ftl), quoted by the server.
letter-dear = Estimado(a) { $name }:
letter-intro-password = Su clínica le dio acceso a su portal de pacientes. Así puede entrar.
letter-intro-activation = Su clínica preparó su portal de pacientes. Use el código de activación de abajo para elegir su propia contraseña.
letter-portal = Dirección del portal
letter-username = Nombre de usuario
letter-temporary-password = Contraseña temporal
letter-activation-code = Código de activación
letter-good-until = El código sirve hasta
letter-steps = La primera vez que entre
letter-step-open = En su teléfono o computadora, abra la dirección del portal de arriba.
letter-step-sign-in = Entre con su nombre de usuario y la contraseña de arriba.
letter-step-forgot = Elija "{ $forgot }" y luego "{ $have-code }".
letter-step-code = Escriba su nombre de usuario y el código de arriba.
letter-step-choose = Elija su propia contraseña: por lo menos { $min } caracteres. Tres o cuatro palabras sin relación entre sí funcionan bien.
letter-keep-safe = Guarde esta carta en un lugar privado, o destrúyala después de entrar.
letter-email-sent = Le enviamos un correo con esta noticia a { $to }. No incluye su contraseña ni su código.
letter-email-queued = Un correo con esta noticia va en camino a { $to }. No incluye su contraseña ni su código.
letter-email-failed = No pudimos enviarle el correo con esta noticia a { $to }.
letter-email-none = No tenemos su correo electrónico, así que no le enviamos un correo.

## Language help (ACA Section 1557 tagline): shown with the English line, whatever the page's
## language.
language-help = ¿Necesita ayuda en otro idioma? Es gratis. Llame al { $phone }.
language-help-no-phone = ¿Necesita ayuda en otro idioma? Es gratis. Pregunte en la recepción.

## "This wasn't me" (SECURITY.md M8): every notice's email and text carry a link to a page
## whose Continue signs out every device, pauses password resets for a day and tells the
## clinic. $link is the link, inserted by the server. A call has no link: it says who to call.
not-you-sms-link = ¿No fue usted? { $link }
not-you-sms-link-call = ¿No fue usted? { $link } o llame al { $phone }
not-you-sms-call = Si no fue usted, { $call-us }.
not-me-intro = Para que nadie más use su cuenta ahora, abra este enlace. Cerraremos su sesión en todos los dispositivos y pausaremos los cambios de contraseña por un día.
not-me-button = No fui yo
