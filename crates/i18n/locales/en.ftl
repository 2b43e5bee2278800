# CareKey — English (United States).
# Plain language for patients: short sentences, no jargon, say what to do next.

portal-name = Patient portal
staff-console-name = CareKey staff console
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
staff-sign-in-title = Staff sign in

password-show = Show
password-hide = Hide
# Accessible names of the show/hide button; they start with the visible word (WCAG 2.5.3).
password-show-field = Show { $field }
password-hide-field = Hide { $field }

## Errors: calm, and always a next step
error-sign-in-failed = That username and password did not match our records. Please check them and try again. If you have tried several times, your account may be paused for a short while to keep it safe; you can reset your password instead.
error-sign-in-locked-maybe = We could not sign you in. After several tries, we pause sign-in for a while to keep your account safe. You can reset your password now to get back in, or try again later.
error-not-signed-in = Please sign in to continue.
error-password-change-required = Please choose a new password before continuing.
error-forbidden = You do not have access to this page.
error-current-password = Your current password was not correct. Please try again.
error-passwords-differ = The two new passwords are not the same. Please type them again.
error-invalid-input = Something in the form could not be read. Please check it and try again.
error-busy = We are very busy right now. Please wait a moment and try again.
error-unavailable = We cannot reach our records right now. Please try again in a few minutes.
error-network = We could not connect. Please check your internet connection and try again.

## Password rules, shown while typing
policy-too-short = Use at least { $min } characters. Three or four unrelated words work well.
policy-too-long = Use no more than { $max } characters.
policy-recently-used = Choose a password you have not used recently.
policy-too-similar = This is too close to your current password. Choose something new, not a small change.
policy-personal-info = Leave out your name, username, email and the clinic's name: they are the first things someone would try.
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

change-title = Change password
change-current-password = Current password
change-temporary-password = Temporary password
change-new-password = New password
change-repeat-password = Repeat new password
change-save = Save
change-done = Your password has been changed. You stayed signed in here; any other devices were signed out.

forced-title = Choose your own password
forced-intro = You signed in with a temporary password. Before you continue, please choose a new password that only you know.

## Forgot password (until online recovery is available)
forgot-title = Forgot your password?
forgot-call-clinic = Please call the clinic. After checking who you are, the front desk can reset your portal password.
forgot-clinic-phone = Phone: { $phone }
tips-title = Tips
tip-original-email = Use the email address you first registered with. If your email has changed, tell the front desk.
tip-spam = If you are expecting a message from us, check your spam, junk or promotions folder.
tip-official-page = Always use the clinic's official portal page, not a link from a search result.

## Staff console
staff-user-menu = { $name } (menu)
staff-home-title = Hello, { $name }
staff-home-body = You are signed in to the staff console.
staff-forgot-body = Ask a CareKey administrator at your clinic to reset your password in Admin > Users.

not-found-title = Page not found
not-found-body = We could not find that page. It may have moved.
