## The staff console only: built into the staff bundle (feature "staff"), never the patient's.

staff-console-name = CareKey staff console
staff-sign-in-title = Staff sign in
staff-user-menu = { $name } (menu)
staff-home-title = Hello, { $name }
staff-home-body = You are signed in to the staff console.
staff-forgot-body = Ask a CareKey administrator at your clinic to reset your password in Admin > Users.

## Navigation
st-nav-label = Staff console
st-home-patients = Find a patient
st-home-users = Admin > Users
st-home-audit = Audit log
st-never = never

## Patients
st-patients-title = Patients
st-search-label = Name, date of birth or MRN
st-search-hint = For example: Lopez, Maria Lopez, 1958-03-14 or 100001.
st-search = Search
st-search-none = No patient matches. Check the spelling, or add the patient.
st-search-count = { $count ->
    [one] One patient found.
   *[other] { $count } patients found.
}
st-patient-meta = born { $dob }, MRN { $mrn }
st-has-portal = has a portal account
st-no-portal = no portal account yet
st-add-patient = Add a patient
st-add-patient-save = Add patient
st-back-patients = Back to patients
st-mrn = Medical record number (MRN)
st-first-name = First name
st-last-name = Last name
st-dob = Date of birth
st-dob-hint = Year-month-day, for example 1958-03-14.
st-zip = ZIP code
st-email = Email address
st-phone = Phone number
st-phone-mobile = This phone can receive text messages (a mobile)
st-phone-mobile-needs-phone = Enter a phone number first: texts need a mobile number on file.
st-phone-texts-calls = The phone on file takes texts and calls.
st-phone-calls-only = The phone on file takes calls only (no texts).
st-fields-wrong = Please check: { $fields }.
st-field-mrn = the medical record number (letters, digits and dashes)
st-field-first-name = the first name
st-field-last-name = the last name
st-field-date-of-birth = the date of birth (a real date, not in the future)
st-field-zip = the ZIP code (5 digits, or ZIP+4)
st-field-email = the email address
st-field-phone = the phone number (one we can call or text)
st-field-identity-checklist = the identity checks

## Chart
st-contacts = Email and phone
st-contacts-hint = Keep phone numbers and email addresses up to date: codes and reset links go only to these.
st-contacts-save = Save email and phone
st-contacts-saved = Saved.

## Patient Portal / API Access widget
st-portal-widget = Patient Portal / API Access
st-portal-none = This patient has no portal account yet. Create credentials below.
st-portal-state = Account
st-portal-active = Active
st-portal-must-change = Active; the patient must choose a new password at the next sign-in
st-portal-waiting-activation = Waiting for the patient to use their activation code
st-portal-disabled = Turned off
st-portal-locked = Locked after too many failed sign-ins, until unlocked or reset
st-portal-paused = Paused after failed sign-ins until { $until }
st-username = Username
st-last-sign-in = Last sign-in
st-failed-sign-ins = Failed sign-ins in a row
st-recent-failures = Recent failed sign-ins
st-failure-line = { $when } from { $ip }
st-unlock = Unlock account
st-portal-locked-reported = Locked: the patient reported activity they did not recognise
st-reported = Patient reported unrecognised activity on { $when }.
st-reported-help = Their sessions were ended, sign-in is locked, and password resets by email or text are paused for a day. Check who is calling before you help: reset their password (that also unlocks) or their two-step verification here, or unlock once you are sure nothing was changed.
st-reported-handled = Mark as handled
st-create-credentials = Create credentials
st-credentials = Credentials
st-credentials-hint = Reset gives the patient a new temporary password, or an activation letter, and prints the letter.
st-reset = Reset
st-cancel = Cancel
st-confirm = Confirm
st-confirm-reset-title = Replace { $name }'s password?
st-confirm-reset-body = The password { $name } uses now stops working at once, and they are signed out everywhere. The new one is on the letter.
st-confirm-activation-title = Print an activation letter for { $name }?
st-confirm-activation-body = The password { $name } uses now keeps working until they use the activation code on the letter to choose a new one. Codes sent to them before stop working.
st-confirm-rename = Their username changes from { $from } to { $to }.
st-password-how = Password
st-password-generated = Use a password CareKey makes (easy to read aloud)
st-password-chosen = Type a password
st-password-activation = No password: print an activation letter, so the patient chooses their own
st-password = Temporary password
st-save-and-print = Save and print letter
st-send-reset = Send a reset to the patient
st-send-reset-hint = The patient finishes on their own phone or computer. Only contacts on file can be used.
st-send-link = Email a reset link
st-send-email-code = Email a code
st-send-text = Text a code
st-send-call = Call with a code
st-sent-to = Sent to { $to }.
st-no-contacts = No email or phone is on file. Add one above, or give a one-time code at the desk.
st-two-step = Two-step verification
st-two-step-none = Not set up
st-two-step-app = Authenticator app
st-two-step-codes = Recovery codes
st-two-step-passkey = Passkey
st-two-step-sent = Codes by text or call
st-two-step-reset = Reset two-step verification
st-two-step-reset-intro = For a patient who lost their phone and their recovery codes. Check who you are talking to first. Every app and code is removed, the patient is signed out everywhere, and every contact on file is told.
st-two-step-reset-check-first = Tick what you checked before resetting two-step verification.
st-desk-code = One-time code for a patient at the desk or on the phone
st-desk-code-checked = First, what did you check?
st-check-dob = Date of birth
st-check-zip = ZIP code
st-check-callback = Called back on the number on file
st-check-photo = Photo ID
st-desk-code-check-first = Tick what you checked before making a code.
st-desk-code-make = Make a code
st-desk-code-is = Code for { $username } (shown once: read it to the patient now):
st-desk-code-until = It works once, until { $until }.
st-desk-code-how = The patient opens the sign-in page, chooses "Forgot your password or username?", then "I have a code from the clinic".
st-deliveries = Recent messages
st-deliveries-none = No messages yet.
st-col-when = When
st-col-what = What
st-col-to = To
st-col-status = Status
st-delivery-queued = waiting to be sent
st-delivery-sending = sending
st-delivery-sent = sent
st-delivery-failed = could not be sent
st-delivery-expired = not sent in time
st-delivery-cancelled = not sent: the contact changed first

## Credentials letter: the staff screen around it. The printed letter itself is in the
## patient's language, rendered by the server from <lang>-messages.ftl (letter-*).
st-letter-title = Credentials letter
st-print = Print
st-letter-done = Back to the chart
st-letter-email-sent = An email with this news was sent to { $to }.
st-letter-email-queued = An email with this news is on its way to { $to }.
st-letter-email-failed = The email to { $to } could not be sent. Please hand this letter to the patient.
st-letter-email-none = No email address is on file, so no email was sent. Please hand this letter to the patient.

## Admin > Users
st-users-title = Users
st-users-search = Find a user
st-name = Name
st-role = Role
st-role-staff = Front desk
st-role-admin = Administrator
st-status-active = active
st-status-locked = locked
st-status-disabled = turned off
st-user-panel = { $name }
st-user-facts = { $role }, { $status }.
st-user-reset = Reset password
st-user-new-password = New password for { $name }
st-your-password = Your password
st-your-password-hint = Your own password, not the user's: it shows you have the authority to reset theirs.
st-user-reset-save = Reset password
st-user-reset-done = Done. { $name } was signed out everywhere and must choose a new password at the next sign-in. Share the new password with them in person or by phone.
st-user-two-step = Two-step verification
st-user-two-step-hint = For { $name } after they lost their phone and their recovery codes: removes every app, passkey and recovery code, and signs them out everywhere. Everyone on file for them is told. Check it is really them first.
st-user-two-step-reset = Reset two-step verification
st-user-two-step-done = Done. { $name } was signed out everywhere and has no second step now. They add one at their next sign-in when the clinic requires it.
st-your-password-missing = Type your own password to confirm.
st-your-password-confirm = Your password, to confirm
st-user-disable = Turn off this user
st-user-enable = Turn this user back on
st-user-make-role = Make { $role }
st-user-new = New user
st-user-is-admin = Administrator (can manage users and read the audit log)
st-user-first-password = First password
st-user-first-password-hint = They must choose their own at the first sign-in.
st-user-create = Create user
st-user-created = { $name } was created.

## Audit log
st-audit-title = Audit log
st-audit-person = Person (username)
st-audit-action = Action
st-audit-action-hint = For example sign_in_failed, password_changed, desk_code_issued. Leave empty for all.
st-audit-from = From (date)
st-audit-to = To (date)
st-audit-show = Show
st-audit-export = Export CSV
st-audit-count = { $count ->
    [one] One entry.
   *[other] { $count } entries, newest first.
}
st-audit-actor = Who
st-audit-target = Whose account
st-audit-ip = From address
st-audit-detail = Detail

## The patient's language on file (issue 13)
st-language = Language for messages
st-language-on-file = Emails, texts and calls go to this patient in { $language }.
st-language-none = No language chosen yet: messages follow the language of the page the patient uses.
st-language-choose = Language
st-language-save = Save language
st-language-saved = Language saved.
