# CareKey — the server's emails, texts and call scripts. English (United States).
#
# Compiled into the server only (cargo feature `messages`), never into a browser bundle. The
# server renders these when it sends a message, or when Twilio fetches a call's script, in the
# language stored with the message. A Spanish catalogue is es-messages.ftl with the same ids.
#
# Variables:
#   $clinic     the clinic's name (clinic.name)
#   $call-us    how to reach the clinic: call-us or call-us-no-phone below
#   $expiry     how long a code or link lasts: expiry-minutes or expiry-hours below
#   $url        the portal's address (public_url)
#   $not-you    the end of a notice's text: not-you-sms-link-call, not-you-sms-link or not-you-sms-call (at the end)
#   $code, $reference, $username, $new-value   inserted as they are
#   $spelled    a code or reference read out one character at a time ("1, 2, 3")
#
# Every code message names its purpose, when it expires and its reference (SECURITY.md R10).
# Texts end with the Web OTP line "@host #code": a format phones read, not words, so the
# server adds it after these sentences.
#
# Every text fits one SMS segment with a 40-character clinic name and a 64-character username:
# 160 characters in GSM-7, Web OTP line included. A text names no masked contact (its "•" is
# not GSM-7, which would cut the segment to 70 characters) and no new username: the email
# notice carries those.

## Shared pieces
call-us = call { $clinic } at { $phone }
call-us-no-phone = call { $clinic }
expiry-minutes = { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}
expiry-hours = { $hours ->
    [one] { $hours } hour
   *[other] { $hours } hours
}
sign-in-at = Sign in at { $url }.
code-reference = Reference: { $reference }. The code expires in { $expiry } and works once.
nothing-to-do = If this was you, there is nothing else to do.

## Calls (SECURITY.md A4): the code is read one digit at a time, twice, then a repeat offer
voice-code = Your code is: { $spelled }.
voice-code-again = Again, your code is: { $spelled }.
voice-outro = The message reference is { $spelled }. The code expires in { $expiry }. If you did not ask for it, you can hang up.
voice-repeat = To hear the code again, press 1.
voice-goodbye = Goodbye.
# Symbols in a username, said as words when a call spells it
voice-char-dot = dot
voice-char-dash = dash
voice-char-underscore = underscore
voice-char-at = at sign

## Notices by call, only to patients with no email and no phone that takes texts. Said twice.
## They name no new username, email or number: anyone may answer a shared landline.
voice-notice-intro = Hello. This is { $clinic }. We have a message about your patient portal account.
voice-notice-again = Again: { $statement }
voice-notice-not-you = If this was not you, { $call-us } right away.
voice-notice-repeat = To hear this message again, press 1.

## A password reset code
reset-code-subject = Your password reset code (reference { $reference })
reset-code-intro = You asked to reset your { $clinic } patient portal password. Your code is:
reset-code-where = Type it on the page where you asked for it.
reset-not-you = If you did not ask to reset your password, you can ignore this; your password has not changed. If this keeps happening, { $call-us }.
reset-code-sms = { $clinic }: your password reset code is { $code } (reference { $reference }). It expires in { $expiry }.
reset-code-voice-intro = Hello. This is { $clinic }. Here is your code to reset your patient portal password.


## A code sent as the second step of a sign-in (issue 12), or to confirm that method
sign-in-code-subject = Your sign-in code (reference { $reference })
sign-in-code-intro = Here is the code you asked for on your { $clinic } patient portal:
sign-in-code-where = Type it on the sign-in page. Never give it to anyone, even someone who says they work for the clinic.
sign-in-code-not-you = If you did not ask for it, someone may know your password. Change it, or { $call-us }.
sign-in-code-sms = { $clinic }: sign-in code { $code } (ref. { $reference }). It expires in { $expiry }. Do not share it.
sign-in-code-voice-intro = Hello. This is { $clinic }. Here is your code to sign in to your patient portal.

## A password reset link (the link itself is inserted by the server)
reset-link-subject = Reset your password (reference { $reference })
reset-link-intro = You asked to reset your password. This is for your { $clinic } patient portal.
reset-link-open = Open this link, then press Continue to choose a new password:
reset-link-button = Choose a new password
reset-link-reference = Reference: { $reference }. The link expires in { $expiry } and works once.
reset-link-not-you = If you did not ask to reset your password, you can ignore this email; your password has not changed. If this keeps happening, { $call-us }.

## The username, sent only to a contact on file (SECURITY.md R11)
username-subject = Your patient portal username
username-intro = You asked for your username for the { $clinic } patient portal. Here it is:
username-not-you = If you did not ask for this, you can ignore it. If you have questions, { $call-us }.
username-sms = { $clinic }: your portal username is { $username }. If not you, ignore this.
username-voice-intro = Hello. This is { $clinic }. Here is the patient portal username you asked for.
username-voice = Your username is: { $spelled }.
username-voice-again = Again, your username is: { $spelled }.
username-voice-outro = If you did not ask for it, you can hang up.
username-voice-repeat = To hear your username again, press 1.

## Staff set up sign-in. It names no password or code: those are on the printed letter only.
credentials-subject = Your patient portal sign-in
credentials-intro = { $clinic } set up sign-in to your patient portal. Your username is:
credentials-letter-activation = The letter the clinic gave you has a one-time activation code. On the sign-in page, choose "Forgot your password or username?", then "I have a code from the clinic", and enter your username and that code to choose your own password.
credentials-letter-password = The letter the clinic gave you has a temporary password. Sign in with your username and that password; you will then be asked to choose your own.
credentials-not-you = If you did not ask the clinic for this, { $call-us } so we can help.

## A code confirming a new email address or phone number (SECURITY.md A5)
contact-code-subject = Your code for your new email address (reference { $reference })
contact-code-intro = You asked to add this email address to your { $clinic } patient portal. Type this code:
contact-code-not-you = If you did not ask for this, you can ignore it; nothing changes.
contact-code-sms = { $clinic }: to add this phone, use code { $code } (reference { $reference }). It expires in { $expiry }.
contact-code-voice-intro = Hello. This is { $clinic }. Here is your code to add this phone number to your patient portal.

## An email address or phone number changed. $kind is email, mobile or landline.
contact-none = none on file
contact-changed-subject = { $kind ->
    [email] Your portal email address was changed
    [mobile] Your portal mobile number was changed
   *[landline] Your portal phone number was changed
}
contact-changed-intro = { $kind ->
    [email] The email address for your { $clinic } patient portal was just changed. It is now { $new-value }.
    [mobile] The mobile number for your { $clinic } patient portal was just changed. It is now { $new-value }.
   *[landline] The phone number for your { $clinic } patient portal was just changed. It is now { $new-value }.
}
contact-changed-not-you = If this was not you, { $call-us } right away. We will help keep your account safe.
contact-changed-sms = { $kind ->
    [email] { $clinic }: your portal email address was changed. { $not-you }
    [mobile] { $clinic }: your portal mobile number was changed. { $not-you }
   *[landline] { $clinic }: your portal phone number was changed. { $not-you }
}
contact-changed-voice = { $kind ->
    [email] The email address on your patient portal account was just changed.
    [mobile] The mobile number on your patient portal account was just changed.
   *[landline] The phone number on your patient portal account was just changed.
}

## The username changed
username-changed-subject = Your portal username was changed
username-changed-intro = Your { $clinic } patient portal username was just changed. It is now:
username-changed-not-you = If this was not you, { $call-us } right away.
username-changed-sms = { $clinic }: your portal username was changed. { $not-you }
username-changed-voice = Your patient portal username was just changed.

## The password changed (SECURITY.md R9). $how is owner (the person changed it), reset (a
## recovery reset) or clinic (staff reset it).
password-changed-subject = Your portal password was changed
password-changed-intro = { $how ->
    [owner] Your { $clinic } patient portal password was just changed. Every device that was signed in has been signed out.
    [reset] Your { $clinic } patient portal password was just reset. Every device that was signed in has been signed out.
   *[clinic] Your { $clinic } patient portal password was just reset by the clinic. Every device that was signed in has been signed out.
}
password-changed-not-you = If this was not you, { $call-us } right away. We can lock your account and help you.
password-changed-sms = { $how ->
    [owner] { $clinic }: your portal password was just changed. { $not-you }
    [reset] { $clinic }: your portal password was just reset. { $not-you }
   *[clinic] { $clinic }: the clinic reset your portal password. { $not-you }
}
password-changed-voice = { $how ->
    [owner] Your patient portal password was just changed. Every device that was signed in has been signed out.
    [reset] Your patient portal password was just reset. Every device that was signed in has been signed out.
   *[clinic] The clinic just reset your patient portal password. Every device that was signed in has been signed out.
}

## Two-step verification changed (issue 12). $what is app_added, app_removed, passkey_added,
## passkey_removed, code_used (a
## saved recovery code signed in; $left are still unused), codes_renewed, device_remembered or clinic_reset (staff removed them all).
two-step-changed-subject = { $what ->
    [passkey_added] A passkey was added to your portal
    [passkey_removed] A passkey was removed from your portal
    [app_added] A code app was added to your portal
    [app_removed] A code app was removed from your portal
    [code_used] A recovery code was used to sign in to your portal
    [clinic_reset] The clinic turned off two-step sign-in for your portal
    [device_remembered] A browser will skip the code step on your portal
    [sent_code_added] Sign-in codes will now be sent to you
    [sent_code_removed] Sign-in codes will no longer be sent to you
   *[codes_renewed] You have new recovery codes for your portal
}
two-step-changed-intro = { $what ->
    [passkey_added] A passkey was just added to your { $clinic } patient portal. You can now sign in with it, using your fingerprint, face or screen lock.
    [passkey_removed] A passkey was just taken off your { $clinic } patient portal. No one can sign in with it now.
    [app_added] A code app was just added to your { $clinic } patient portal. Each sign-in now asks for a code from it.
    [app_removed] A code app was just taken off your { $clinic } patient portal. Sign-in no longer asks for its codes.
    [code_used] One of your saved recovery codes was just used to sign in to your { $clinic } patient portal. { $left ->
        [0] You have no codes left. Please make new ones in Settings.
        [one] You have 1 code left.
       *[other] You have { $left } codes left.
    }
    [clinic_reset] At your request, { $clinic } removed the code app and recovery codes from your patient portal. You can add a new app after you sign in.
    [device_remembered] A browser signed in to your { $clinic } patient portal and asked to skip the code step next time. It still needs your password.
    [sent_code_added] Your { $clinic } patient portal can now send you a code when you sign in.
    [sent_code_removed] Your { $clinic } patient portal will no longer send you codes to sign in there.
   *[codes_renewed] You just made new recovery codes for your { $clinic } patient portal. The old ones no longer work.
}
two-step-changed-sms = { $what ->
    [passkey_added] { $clinic }: a passkey was added to your portal. { $not-you }
    [passkey_removed] { $clinic }: a passkey was removed from your portal. { $not-you }
    [app_added] { $clinic }: a 2-step app was added to your portal. { $not-you }
    [app_removed] { $clinic }: your 2-step app was removed. { $not-you }
    [code_used] { $clinic }: a recovery code was used to sign in. { $not-you }
    [clinic_reset] { $clinic }: we turned off your 2-step sign-in. { $not-you }
    [device_remembered] { $clinic }: a browser now skips your code step. { $not-you }
    [sent_code_added] { $clinic }: sign-in codes will come to you. { $not-you }
    [sent_code_removed] { $clinic }: no more sign-in codes to you. { $not-you }
   *[codes_renewed] { $clinic }: you have new portal recovery codes. { $not-you }
}
two-step-changed-voice = { $what ->
    [passkey_added] A passkey was just added to your patient portal.
    [passkey_removed] A passkey was just taken off your patient portal.
    [app_added] A code app was just added to your patient portal.
    [app_removed] A code app was just taken off your patient portal.
    [code_used] One of your saved recovery codes was just used to sign in to your patient portal.
    [clinic_reset] The clinic just removed the code app and recovery codes from your patient portal.
    [device_remembered] A browser signed in to your patient portal and will skip the code step next time.
    [sent_code_added] Your patient portal will now send you codes to sign in.
    [sent_code_removed] Your patient portal will no longer send you codes to sign in.
   *[codes_renewed] New recovery codes were just made for your patient portal. The old ones no longer work.
}

## The printed credentials or activation letter, in the patient's language. Staff print it;
## it is never sent. $forgot and $have-code are the sign-in page's own link names, quoted from
## the page catalogue of the same language. $min is the clinic's password.min_length. $to is
## the masked email address the letter's email went to.
letter-dear = Dear { $name },
letter-intro-password = Your clinic has set up sign-in to your patient portal. Here is how to get in.
letter-intro-activation = Your clinic has set up your patient portal. Use the activation code below to choose your own password.
letter-portal = Portal address
letter-username = Username
letter-temporary-password = Temporary password
letter-activation-code = Activation code
letter-good-until = Code works until
letter-steps = First sign-in
letter-step-open = On your phone or computer, open the portal address above.
letter-step-sign-in = Sign in with your username and the password above.
letter-step-forgot = Choose "{ $forgot }", then "{ $have-code }".
letter-step-code = Type your username and the code above.
letter-step-choose = Choose your own password: at least { $min } characters. Three or four unrelated words work well.
letter-keep-safe = Keep this letter somewhere private, or shred it once you have signed in.
letter-email-sent = We sent an email with this news to { $to }. It does not have your password or code.
letter-email-queued = An email with this news is on its way to { $to }. It does not have your password or code.
letter-email-failed = We could not send the email with this news to { $to }.
letter-email-none = We have no email address for you, so no email was sent.

## Language help (ACA Section 1557 tagline): on the sign-in page and every printed letter, the
## English and the Spanish line together, whatever the page's language. $phone is clinic.phone.
language-help = Need help in another language? It is free. Call { $phone }.
language-help-no-phone = Need help in another language? It is free. Ask the front desk.

## "This wasn't me" (SECURITY.md M8): every notice's email and text carry a link to a page
## whose Continue signs out every device, pauses password resets for a day and tells the
## clinic. $link is the link, inserted by the server. A call has no link: it says who to call.
not-you-sms-link = Not you? { $link }
not-you-sms-link-call = Not you? { $link } or call { $phone }
not-you-sms-call = If not you, { $call-us }.
not-me-intro = To stop anyone else using your account now, open this link. We will sign you out on every device and pause password resets for a day.
not-me-button = This was not me
