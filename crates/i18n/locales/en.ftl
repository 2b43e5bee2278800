# CareKey — English (United States).
# Plain language for patients: short sentences, no jargon, say what to do next.

portal-name = Patient portal
loading = Loading…
saving = Saving…
sign-out = Sign out
signed-out = You have signed out. Thank you.
signed-out-idle = To protect your information, we signed you out after a period without activity. Please sign in again.
back-home = Back to home
back-settings = Back to settings
back-sign-in = Back to sign in

## Sign-in
sign-in-title = Sign in to your patient portal
sign-in-intro = Use the username or email address you registered with, and your password.
sign-in-identifier = Username or email
sign-in-password = Password
sign-in-submit = Sign in
sign-in-busy = Signing in…
sign-in-forgot-password = Forgot your password or username?
sign-in-missing-fields = Please enter both your username (or email) and your password.
sign-in-passkey = Sign in with a passkey
sign-in-passkey-cancelled = No passkey was used. You can try again, or sign in with your password.
sign-in-passkey-failed = That passkey did not work here. Sign in with your password, or try another passkey.

password-show = Show
password-hide = Hide
# Accessible names of the show/hide button; they start with the visible word (WCAG 2.5.3).
password-show-field = Show { $field }
password-hide-field = Hide { $field }

## Errors: calm, and always a next step
error-sign-in-failed = That username and password did not match our records. Please check them and try again.
error-sign-in-locked-maybe = We could still not sign you in. Sign-in may be paused for now to keep the account safe; resetting your password is the quickest way back in.
sign-in-pause-rule = To keep accounts safe, { $threshold } tries in a row that do not match pause sign-in for { $duration }, and longer if they go on. While sign-in is paused, even the right password does not work.
sign-in-pause-duration = { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
}
sign-in-reset-link = Reset your password
sign-in-reset-ends-pause = (this works at any time and ends a pause).
sign-in-call-clinic-phone = Need help? Call { $clinic } at { $phone }.
sign-in-call-clinic = Need help? Call { $clinic }.
sign-in-ask-admin = Need help? Ask an administrator at your clinic.
error-not-signed-in = Please sign in to continue.
error-password-change-required = Please choose a new password before continuing.
error-forbidden = You do not have access to this page.
error-current-password = Your current password was not correct. Please try again.
error-passwords-differ = The two new passwords are not the same. Please type them again.
error-invalid-input = Something in the form could not be read. Please check it and try again.
error-busy = We are very busy right now. Please wait a moment and try again.
error-unavailable = We cannot reach our records right now. Please try again in a few minutes.
error-network = We could not connect. Please check your internet connection and try again.
error-not-found = We could not find that record. It may have been changed; please search again.
error-already-exists = A patient with that medical record number is already on file. Search for them instead.
error-too-many-messages = This person has had as many messages as we send in a while. Please wait an hour, or give them a one-time code at the desk instead.

## Password rules, shown while typing
policy-too-short = { $min ->
    [one] Use at least 1 character. Three or four unrelated words work well.
   *[other] Use at least { $min } characters. Three or four unrelated words work well.
}
policy-too-long = { $max ->
    [one] Use no more than 1 character.
   *[other] Use no more than { $max } characters.
}
policy-recently-used = Choose a password you have not used recently.
policy-too-similar = This is too close to your current password. Choose something new, not a small change.
policy-personal-info = Leave out your name, username, email and the clinic's name: they are the first things someone would try.
policy-common = This is one of the passwords people use most, or one padded out with repeats, numbers or symbols. Choose something only you would think of.
policy-needs-mix = This clinic asks for letters, numbers and symbols. Add at least one of each; a space counts as a symbol.
hint-common-list-unavailable = We could not load our list of common passwords, so these hints may miss one. We will still check when you save.
strength-label = Strength: { $level }
strength-too-weak = too weak yet
strength-good = good
strength-strong = strong
# While a too-short password is still being typed: neutral, not yet a refusal.
strength-keep-going = keep going
hint-keep-going = { $min ->
    [one] Keep going: use at least 1 character. A few unrelated words work well.
   *[other] Keep going: use at least { $min } characters. A few unrelated words work well.
}
hint-start = Choose a long password: at least 15 characters. A few unrelated words, like a short sentence, are easy to remember and hard to guess.
hint-all-met = This password meets all the rules.

## Idle logoff
idle-title = Are you still there?
idle-body = { $minutes ->
    [one] For your privacy, you will be signed out in 1 minute.
   *[other] For your privacy, you will be signed out in { $minutes } minutes.
}
idle-stay = Stay signed in

## Portal home
home-greeting = Welcome, { $name }
home-nav-label = Portal menu
home-last-sign-in = Your last sign-in was { $when }.
home-first-sign-in = This is your first sign-in. Welcome!
home-failed-attempts = { $count ->
    [one] Someone tried to sign in to your account once with a wrong password before this sign-in. If it was not you, please change your password.
   *[other] Someone tried to sign in to your account { $count } times with a wrong password before this sign-in. If it was not you, please change your password.
}

## Settings
settings-title = Settings
settings-credentials = Manage login credentials
settings-change-password = Change password
settings-change-username = Change username
settings-contact = Email and phone
settings-preferences = Preferences
settings-language = Language for messages
# Shown beside the language switch when the other language's page catalogue could not be
# fetched; $language is that language's own name ("Español").
language-switch-failed = { $language } did not load. Check your connection, then try again.
language-title = Language for messages
language-intro = The clinic writes, texts and calls you in this language.
language-legend = Language
language-hint = You can change it at any time.
language-none-yet = You have not chosen one yet. Until you do, messages use the language of the page you asked from.
language-missing = Please choose a language.
language-save = Save
language-saved = Saved. Your next messages will be in this language.
contact-title = Email and phone
contact-on-file = On file now
contact-none = No email or phone is on file. Please call the clinic to add one.
contact-change = Add or change
contact-which = What do you want to change?
contact-kind-email = Email address
contact-kind-mobile = Mobile phone (texts)
contact-kind-landline = Home phone (calls only)
contact-new-email = New email address
contact-new-phone = New phone number
contact-code-hint = We will send a code there to make sure it is yours. Nothing changes until you type it here.
contact-missing = Please enter the new email or phone number and your current password.
contact-send-code = Send a code
contact-code-sent = { $minutes ->
    [one] We sent an 8-digit code to { $destination } (reference { $reference }). It expires in 1 minute. Type it here to finish.
   *[other] We sent an 8-digit code to { $destination } (reference { $reference }). It expires in { $minutes } minutes. Type it here to finish.
}
contact-confirm = Confirm
contact-start-over = Start over
contact-done = Saved. Your contacts on file are updated, and we told the ones you had before.
error-contact-invalid = That does not look like an email address, or a phone number we can send codes to. Please check it, or call the clinic.
username-change-title = Change username
username-change-new = New username
username-change-hint = 3 to 64 letters or numbers; dots, dashes, underscores and @ are fine. It does not matter whether you use capital letters.
username-change-save = Save username
username-change-done = Your username is now { $username }. Use it the next time you sign in. We sent a notice to the contacts on file.
error-username-taken = That username is already in use. Please choose another.
error-username-invalid = Usernames are 3 to 64 letters or numbers, and may use dots, dashes, underscores and @.
devices-title = Signed-in devices
devices-this-one = { $device } (this device)
devices-times = Signed in { $signed_in }. Last active { $active }.
devices-sign-out-others = Sign out everywhere else
devices-remembered-title = Browsers that skip the code step
devices-remembered-until = Your password is still asked there; the code is not, until { $until }. "Sign out everywhere else" makes them ask again.
devices-signed-out = { $count ->
    [0] There were no other devices to sign out.
    [one] We signed out 1 other device.
   *[other] We signed out { $count } other devices.
}

change-title = Change password
change-current-password = Current password
change-temporary-password = Temporary password
change-new-password = New password
change-repeat-password = Repeat new password
change-save = Save
change-done = Your password has been changed. You stayed signed in here; any other devices were signed out.

forced-title = Choose your own password
forced-intro = You signed in with a temporary password. Before you continue, please choose a new password that only you know.
forced-proof-expired = This page was open for a while. To keep you safe, please type the temporary password from the clinic again. Then type your new password twice.
change-missing-temporary = Please type the temporary password the clinic gave you.
change-missing-current = Please type your current password.

## Forgot password
forgot-title = Forgot your password?
forgot-call-clinic = Please call the clinic. After checking who you are, the front desk can reset your portal password.
recover-intro = Tell us who you are and how you would like to get a code. We only send codes to the email or phone number the clinic already has on file for you.
recover-username = Username
recover-email = Email address
recover-missing-username = Please enter your username.
recover-missing-email = Please enter your email address.
recover-missing-identifier = Please enter your username or email address.
recover-missing-both = Please enter both your username and your email address.
recover-how = How should we reach you?
recover-how-hint = Pick one. If that way is not on file for you, nothing is sent; try another way or call the clinic.
recover-channel-email-link = Email me a link
recover-channel-email-code = Email me a code
recover-channel-sms = Text me a code
recover-channel-voice = Call me with a code
recover-send = Send
sending = Sending…
checking = Checking…
recover-forgot-username-link = Forgot your username?
recover-call-instead = Email or phone changed, or neither works for you? Call { $clinic }. The front desk can help after checking who you are.
recover-call-instead-phone = Email or phone changed, or neither works for you? Call { $clinic } at { $phone }. The front desk can help after checking who you are.
recover-check-email = Check your email
recover-check-texts = Check your text messages
recover-check-calls = Answer your phone
recover-sent-email-link = { $minutes ->
    [one] If an account matches what you entered and has an email address on file, we sent a link there. It works once and expires in 1 minute.
   *[other] If an account matches what you entered and has an email address on file, we sent a link there. It works once and expires in { $minutes } minutes.
}
recover-sent-email-code = { $minutes ->
    [one] If an account matches what you entered and has an email address on file, we sent an 8-digit code there. It expires in 1 minute.
   *[other] If an account matches what you entered and has an email address on file, we sent an 8-digit code there. It expires in { $minutes } minutes.
}
recover-sent-sms = { $minutes ->
    [one] If an account matches what you entered and has a mobile phone on file, we sent an 8-digit code by text message. It expires in 1 minute.
   *[other] If an account matches what you entered and has a mobile phone on file, we sent an 8-digit code by text message. It expires in { $minutes } minutes.
}
recover-sent-voice = { $minutes ->
    [one] If an account matches what you entered and has a phone number on file, we are calling it now to read out an 8-digit code. It expires in 1 minute.
   *[other] If an account matches what you entered and has a phone number on file, we are calling it now to read out an 8-digit code. It expires in { $minutes } minutes.
}
# How the patient tells the newest message from older ones, in the words each channel uses
# (the server puts the reference in an email's subject, after a text's code, and spells it at
# the end of a call).
recover-reference-email = The subject line of our email shows { $reference }, so you know it is the newest one.
recover-reference-sms = Right after the code, our text shows { $reference }, so you know it is the newest one.
recover-reference-voice = At the end of the call, we spell out { $reference }, so you know it is the newest one.
recover-code = Code
recover-code-hint = 8 digits. Spaces are fine.
recover-code-format = Codes are 8 digits. Please check the message and type the code again.
recover-continue = Continue
recover-newest-email = Use the code from the newest email: the one showing { $reference } in its subject line.
recover-newest-sms = Use the code from the newest text: the one showing { $reference } after the code.
recover-newest-voice = Use the code from the newest call: the one that spelled out { $reference } at the end.
# A code that expired or was used cannot come back: the page leads with the one way on.
recover-code-expired = That code has expired. Send a new code to continue.
recover-code-used = That code has already been used. Send a new code to continue.
recover-resend-code = Send a new code
recover-resend-link = Send a new link
recover-resend-wait = { $seconds ->
    [one] You can ask again in 1 second.
   *[other] You can ask again in { $seconds } seconds.
}
recover-resent = If an account matches, we sent a new one, marked { $reference }. Older codes and links no longer work.
recover-another-way = Try another way
recover-have-clinic-code = I have a code from the clinic
recover-clinic-code-title = Use a code from the clinic
recover-clinic-code-intro = If the clinic gave you a one-time code, at the desk, on the phone or in a letter, enter it here together with what you sign in with. You will then choose a new password.
recover-nothing-arrived = Nothing arrived?
tip-expiry = Codes and links expire. If yours has, ask for a new one.
tip-call-clinic = Still stuck? Call { $clinic }. The front desk can help after checking who you are.
tip-call-clinic-phone = Still stuck? Call { $clinic } at { $phone }. The front desk can help after checking who you are.
recover-new-title = Choose a new password
recover-confirmed-code = Thank you: the code we sent to { $contact } worked.
recover-confirmed-link = Thank you: the link we sent to { $contact } worked.
recover-confirmed-clinic = Thank you: the code from the clinic worked.
recover-save = Save new password
recover-done-title = Your password has been changed
recover-done-body = For your safety, every device that was signed in has been signed out, and we sent a notice to the contacts on file. Please sign in with your new password.
recover-done-sign-in = Sign in
recover-link-title = Reset your password
recover-link-body = This link was sent to { $contact }. Press Continue to choose a new password.
recover-link-problem-title = This link or code cannot be used
recover-get-new = Get a new code or link
code-not-accepted = That code did not work. Check that you typed the newest one. After several wrong tries a code stops working; then ask for a new one.
code-expired = That code or link has expired. Please ask for a new one.
code-used = That code or link has already been used. If you did not finish, please ask for a new one.
code-replaced = A newer code or link was sent after this one, so this one no longer works. Please use the newest message.
error-security-answer = That answer did not match. Please try again.
tip-original-email = Use the email address you first registered with. If your email has changed, tell the front desk.
tip-spam = If you are expecting a message from us, check your spam, junk or promotions folder.
tip-official-page = Always use the clinic's official portal page, not a link from a search result.
# Tips for a text or a call. The same for everyone who asks (SECURITY.md E1): they describe
# how CareKey sends, never what one account has on file.
tip-sms-app = Look in your Messages app. Some phones put texts from numbers they do not know under "Unknown senders" or "Spam".
tip-sms-number = We text only the mobile number the clinic has on file. If yours has changed, the front desk can update it after checking who you are.
tip-sms-landline = A home phone (landline) cannot get texts. If that is your only phone, choose "Try another way", then "Call me with a code".
tip-voice-answer = The call comes from the clinic. Keep your phone close and answer it, even if you do not know the number that shows.
tip-voice-number = We call only the phone number the clinic has on file. It can be a mobile or a home phone (landline). If yours has changed, the front desk can update it after checking who you are.
tip-voice-missed = Missed the call? Send a new code and we will call again.

## Forgot username
username-title = Forgot your username?
username-intro = We will send your username to the email address or phone number the clinic has on file for you: by email, by text message, or to a home phone by a call that reads it out. We never show it on this page.
username-how = How should we find your account?
username-by-contact = With my email address or phone number
username-by-demographics = With my name, date of birth and ZIP code
username-contact = Email address or phone number
username-contact-hint = Use the one you gave the clinic.
username-first-name = First name
username-last-name = Last name
username-dob = Date of birth
username-zip = ZIP code
username-missing = Please fill in every field.
username-send = Send my username
username-forgot-password-link = Forgot your password instead?
username-sent-title = Check your email or phone
username-sent-body = If exactly one account matches what you entered, we sent its username to the email address or phone number on file. A home phone gets a call that reads the username out. It can take a few minutes.

## "This wasn't me" (SECURITY.md M8): the page a security notice's link opens
not-me-title = Was this not you?
not-me-body = If you did not make the change in our message, press Continue. We will:
not-me-will-sign-out = Sign you out on every phone and computer.
not-me-will-pause = Stop password resets by email or text for one day.
not-me-will-lock = Lock sign-in until the clinic helps you.
not-me-will-tell = Tell the clinic, so staff can help you.
not-me-continue = Continue
not-me-busy = Sending…
not-me-was-me = It was me. Go to sign in.
not-me-done-title = Thank you. Your account is safer now.
not-me-done-body = We signed you out everywhere, locked sign-in and told the clinic. Please call us so we can help you get back in safely.
not-me-call-phone = Call { $clinic } at { $phone }.
not-me-call = Call { $clinic }.
not-me-refused-title = This link does not work
not-me-expired = This link is too old. If someone changed your account, please call us now.
not-me-not-accepted = We could not read this link. If someone changed your account, please call us now.

## Two-step verification

second-step-title = Two-step verification
second-step-app-intro = Open your authenticator app and type the 6-digit code it shows for this clinic.
second-step-backup-intro = Type one of the recovery codes you saved. Each code works once.
second-step-passkey-intro = Use your passkey. Your phone or computer will ask for your fingerprint, face or screen lock.
second-step-passkey-submit = Use my passkey
second-step-passkey-failed = That passkey did not work. Please try again, or try another way.
second-step-passkey-cancelled = No passkey was used. Please try again, or try another way.
second-step-app-label = 6-digit code
second-step-backup-label = Recovery code
second-step-submit = Verify
second-step-busy = Checking…
second-step-missing = Please type the code.
second-step-remember = { $days ->
    [one] Do not ask for a code on this browser for 1 day
   *[other] Do not ask for a code on this browser for { $days } days
}
second-step-remember-hint = Only on a computer or phone that is yours alone. Your password is still asked.
second-step-other-way = Try another way
second-step-use-app = Use my authenticator app
second-step-use-backup = Use a saved recovery code
second-step-use-passkey = Use a passkey
second-step-start-over = Start over
second-step-expired = For your safety, that sign-in has ended. Please sign in again.
error-second-step-failed = That code did not work. Please check it and try again. An app code changes every 30 seconds.
error-second-step-setup-required = Please add a second sign-in step before you go on.
error-last-second-step = Your clinic asks everyone to use two-step verification, so your only method cannot be removed. Add another one first.
error-passkey-not-accepted = That passkey could not be added. It may already be on your account. Please try again, or use another phone or computer.
two-step-title = Two-step verification
two-step-intro = A second step keeps your account safe even if someone learns your password. After your password, we ask for a code from an app on your phone.
two-step-required-notice = Your clinic asks everyone to add a second sign-in step. Please add one now to go on.
two-step-methods = Your sign-in methods
two-step-none = You have not added a second step yet.
two-step-kind-app = Authenticator app
two-step-kind-passkey = Passkey
two-step-added = Added { $when }.
two-step-last-used = Last used { $when }.
two-step-never-used = Not used yet.
two-step-remove = Remove { $name }
two-step-remove-confirm = Remove it
two-step-removed = { $name } was removed.
two-step-only-one = This is your only method. Add another one before you remove it.
two-step-password-missing = Please type your current password.
two-step-add-app = Add an authenticator app
two-step-app-explain = Any free code app will do. Two of them are Google Authenticator and Microsoft Authenticator. Many phones have one built in.
two-step-name = Name for this app
two-step-name-hint = Optional. For example: My phone.
two-step-start = Set up an app
two-step-scan = Open the app and scan this code with your phone's camera.
two-step-qr-label = A code for your authenticator app to scan
two-step-key-intro = Cannot scan it? Type this key into the app instead:
two-step-code = The 6-digit code the app shows now
two-step-confirm = Turn it on
two-step-confirm-missing = Please type the code from the app and your current password.
two-step-password-again = Please type your current password to go on.
two-step-setup-code-wrong = That code did not work. Type the code the app shows now: it changes every 30 seconds. If it still does not work, check that your phone sets its time by itself.
two-step-added-app = Your authenticator app is ready.
two-step-add-passkey = Add a passkey
two-step-passkey-name = Name for this passkey
two-step-passkey-explain = With a passkey you sign in with your fingerprint, face or screen lock. You do not need your password. It stays on your phone or computer, and a fake website cannot steal it.
two-step-passkey-name-hint = Optional. For example: My laptop.
two-step-passkey-start = Add a passkey
two-step-passkey-cancelled = No passkey was made. You can try again when you are ready.
two-step-added-passkey = Your passkey is ready. Next time you can sign in with it.
second-step-sent-intro = We send a code to a phone or email on file. Choose where, press Send, then type the 8-digit code.
second-step-sent-label = Code we sent
second-step-use-sent = Send me a code
second-step-sent-where = Where to send the code
second-step-send = Send a code
second-step-send-again = Send a new code
second-step-sent-none = We cannot send you a code right now. Try another way, or call the clinic.
second-step-sent = We sent { $where } (reference { $reference }). It works for 5 minutes.
two-step-route-text = a text to { $masked }
two-step-route-call = a call to { $masked }
two-step-route-email = an email to { $masked }
two-step-kind-sent = Codes we send
two-step-add-sent = Get codes by text or call
two-step-sent-explain = When you sign in, we send a code to a phone on file. You type it after your password.
two-step-sent-where = Where to send codes
two-step-sent-start = Send a code to check it
two-step-sent-sent = We sent { $where } (reference { $reference }). Type the code to finish.
two-step-sent-code = Code we sent
two-step-sent-code-wrong = That code did not work. Check the newest message from us and try again.
two-step-added-sent = Done. When you sign in, we will send you a code.
two-step-codes-title = Recovery codes
two-step-codes-left = { $count ->
    [0] You have no recovery codes left. Please make new ones.
    [one] You have 1 recovery code left.
   *[other] You have { $count } recovery codes left.
}
two-step-codes-regenerate-hint = New codes replace the old ones. The old ones stop working.
two-step-codes-regenerate = Make new recovery codes
two-step-codes-save-title = Save your recovery codes
two-step-codes-save-intro = If you lose your phone, each code below lets you sign in once. Keep them somewhere safe. We show them only now.
two-step-codes-copy = Copy
two-step-codes-copied = The codes were copied.
two-step-codes-copy-failed = They could not be copied. Please write them down or print them.
two-step-codes-download = Download
two-step-codes-print = Print
two-step-codes-saved = I have saved my codes

## Staff console

not-found-title = Page not found
not-found-body = We could not find that page. It may have moved.
