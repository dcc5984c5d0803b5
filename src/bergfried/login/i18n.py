"""The login's texts in English and German, as data, and the choice of language.

Error texts keep ZITADEL's message keys and its English wording (spec/login.md §3, §5, §7), since
people and scripts know them. The language comes from the auth request's `ui_locales`, then the
browser's `Accept-Language`, else English (spec/login.md §4 `ui_locales`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT = "en"

CATALOGS: dict[str, dict[str, str]] = {
    "en": {
        "DeviceAuth.Title": "Device Authorization",
        "DeviceAuth.UserCode.Label": "User Code",
        "DeviceAuth.UserCode.Description": "Enter the user code presented on the device.",
        "DeviceAuth.UserCode.ButtonNext": "Next",
        "DeviceAuth.Action.Description": "Grant device access.",
        "DeviceAuth.Action.GrantDevice": "You are about to grant device {app}",
        "DeviceAuth.Action.AccessToScopes": "access to the following scopes:",
        "DeviceAuth.Action.Allow": "Allow",
        "DeviceAuth.Action.Deny": "Deny",
        "DeviceAuth.Done.Description": "Done.",
        "DeviceAuth.Done.Approved": "Device authorization approved. You can now return to the device.",
        "DeviceAuth.Done.Denied": "Device authorization denied. You can now return to the device.",
        "Errors.DeviceAuth.NotFound": "The user code is unknown, expired or already used",
        "LoginName.Title": "Sign in",
        "LoginName.Description": "Enter your login name or e-mail address.",
        "LoginName.Label": "Login name",
        "LoginName.Next": "Next",
        "Password.Title": "Password",
        "Password.Description": "Enter the password for {login_name}.",
        "Password.Label": "Password",
        "Password.Next": "Sign in",
        "Password.OtherUser": "Use another account",
        "Accounts.Title": "Choose an account",
        "Accounts.Description": "These accounts are signed in on this browser.",
        "Accounts.Other": "Use another account",
        "Error.Title": "Something went wrong",
        "Error.Hint": "Go back to the application and start the sign-in again.",
        "Errors.User.NotFound": "User could not be found",
        "Errors.User.Inactive": "User is inactive",
        "Errors.User.Locked": "User is locked",
        "Errors.User.NotHuman": "The User must be personal",
        "Errors.User.Password.Invalid": "Password is invalid",
        "Errors.User.UsernameOrPassword.Invalid": "Username or Password is invalid",
        "Errors.User.LoginName.Empty": "Enter a login name",
        "Errors.User.Password.Empty": "Enter your password",
        "Errors.AuthRequest.NotFound": "Could not find authrequest",
        "Errors.Login.Csrf": "The form has expired or did not come from this page. Go back and try again.",
        "Errors.Login.BadForm": "The form could not be read.",
        "Errors.Login.TooManyAttempts": "Too many sign-in attempts. Wait a moment and try again.",
        "Register.Title": "Register",
        "Register.Description": "Create your account.",
        "Register.Email": "E-mail",
        "Register.Username": "Username (optional: your e-mail otherwise)",
        "Register.FirstName": "First name",
        "Register.LastName": "Last name",
        "Register.Language": "Language",
        "Register.Password": "Password",
        "Register.PasswordConfirmation": "Password confirmation",
        "Register.Next": "Register",
        "Register.Back": "I already have an account",
        "LoginName.Register": "Register",
        "Errors.Org.LoginPolicy.RegistrationNotAllowed": "Registration is not allowed",
        "Errors.User.Password.ConfirmationWrong": "Password confirmation is wrong",
        "Errors.Register.Required": "Fill in every required field",
        "Errors.User.AlreadyExists": "User already exists",
        "Errors.User.Username.AlreadyExists": "Username already taken",
        "Errors.User.Email.Invalid": "Email is invalid",
        "Errors.User.PasswordComplexityPolicy.MinLength": "Password is too short",
        "Errors.User.PasswordComplexityPolicy.HasLower": "Password must contain lower case",
        "Errors.User.PasswordComplexityPolicy.HasUpper": "Password must contain upper case",
        "Errors.User.PasswordComplexityPolicy.HasNumber": "Password must contain number",
        "Errors.User.PasswordComplexityPolicy.HasSymbol": "Password must contain symbol",
        "Errors.Internal": "An internal error occurred",
    },
    "de": {
        "DeviceAuth.Title": "Geräteautorisierung",
        "DeviceAuth.UserCode.Label": "Benutzercode",
        "DeviceAuth.UserCode.Description": "Gib den auf dem Gerät angezeigten Benutzercode ein.",
        "DeviceAuth.UserCode.ButtonNext": "Weiter",
        "DeviceAuth.Action.Description": "Gerätezugriff erlauben.",
        "DeviceAuth.Action.GrantDevice": "Du bist dabei, dem Gerät {app}",
        "DeviceAuth.Action.AccessToScopes": "Zugriff auf die folgenden Bereiche zu gewähren:",
        "DeviceAuth.Action.Allow": "Erlauben",
        "DeviceAuth.Action.Deny": "Verweigern",
        "DeviceAuth.Done.Description": "Abgeschlossen.",
        "DeviceAuth.Done.Approved": "Geräteautorisierung erlaubt. Du kannst jetzt zum Gerät zurückkehren.",
        "DeviceAuth.Done.Denied": "Geräteautorisierung verweigert. Du kannst jetzt zum Gerät zurückkehren.",
        "Errors.DeviceAuth.NotFound": "Der Benutzercode ist unbekannt, abgelaufen oder bereits verwendet",
        "LoginName.Title": "Anmelden",
        "LoginName.Description": "Geben Sie Ihren Loginnamen oder Ihre E-Mail-Adresse ein.",
        "LoginName.Label": "Loginname",
        "LoginName.Next": "Weiter",
        "Password.Title": "Passwort",
        "Password.Description": "Geben Sie das Passwort für {login_name} ein.",
        "Password.Label": "Passwort",
        "Password.Next": "Anmelden",
        "Password.OtherUser": "Anderes Konto verwenden",
        "Accounts.Title": "Konto auswählen",
        "Accounts.Description": "Diese Konten sind in diesem Browser angemeldet.",
        "Accounts.Other": "Anderes Konto verwenden",
        "Error.Title": "Etwas ist schiefgelaufen",
        "Error.Hint": "Kehren Sie zur Anwendung zurück und beginnen Sie die Anmeldung erneut.",
        "Errors.User.NotFound": "Benutzer konnte nicht gefunden werden",
        "Errors.User.Inactive": "Benutzer ist inaktiv",
        "Errors.User.Locked": "Benutzer ist gesperrt",
        "Errors.User.NotHuman": "Der Benutzer muss eine Person sein",
        "Errors.User.Password.Invalid": "Passwort ist ungültig",
        "Errors.User.UsernameOrPassword.Invalid": "Benutzername oder Passwort ist ungültig",
        "Errors.User.LoginName.Empty": "Geben Sie einen Loginnamen ein",
        "Errors.User.Password.Empty": "Geben Sie Ihr Passwort ein",
        "Errors.AuthRequest.NotFound": "AuthRequest konnte nicht gefunden werden",
        "Errors.Login.Csrf": "Das Formular ist abgelaufen oder stammt nicht von dieser Seite. "
                             "Gehen Sie zurück und versuchen Sie es erneut.",
        "Errors.Login.BadForm": "Das Formular konnte nicht gelesen werden.",
        "Errors.Login.TooManyAttempts": "Zu viele Anmeldeversuche. Warten Sie einen Moment "
                                        "und versuchen Sie es erneut.",
        "Register.Title": "Registrieren",
        "Register.Description": "Erstellen Sie Ihr Konto.",
        "Register.Email": "E-Mail",
        "Register.Username": "Benutzername (optional: sonst Ihre E-Mail)",
        "Register.FirstName": "Vorname",
        "Register.LastName": "Nachname",
        "Register.Language": "Sprache",
        "Register.Password": "Passwort",
        "Register.PasswordConfirmation": "Passwort bestätigen",
        "Register.Next": "Registrieren",
        "Register.Back": "Ich habe bereits ein Konto",
        "LoginName.Register": "Registrieren",
        "Errors.Org.LoginPolicy.RegistrationNotAllowed": "Registrierung ist nicht erlaubt",
        "Errors.User.Password.ConfirmationWrong": "Passwort Bestätigung stimmt nicht überein",
        "Errors.Register.Required": "Füllen Sie alle Pflichtfelder aus",
        "Errors.User.AlreadyExists": "Benutzer existiert bereits",
        "Errors.User.Username.AlreadyExists": "Benutzername ist bereits vergeben",
        "Errors.User.Email.Invalid": "E-Mail ist ungültig",
        "Errors.User.PasswordComplexityPolicy.MinLength": "Passwort ist zu kurz",
        "Errors.User.PasswordComplexityPolicy.HasLower": "Passwort muss Kleinbuchstaben enthalten",
        "Errors.User.PasswordComplexityPolicy.HasUpper": "Passwort muss Grossbuchstaben enthalten",
        "Errors.User.PasswordComplexityPolicy.HasNumber": "Passwort muss eine Nummer enthalten",
        "Errors.User.PasswordComplexityPolicy.HasSymbol": "Passwort muss ein Symbol enthalten",
        "Errors.Internal": "Ein interner Fehler ist aufgetreten",
    },
}

_ACCEPT_ITEM = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([01](?:\.\d{0,3})?))?\s*$")


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0].split("_", 1)[0].lower()


def _accepted(header: str) -> list[str]:
    """RFC 9110 §12.5.4: tags by descending quality, ties in header order; q=0 means "not this"."""
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:20]):
        match = _ACCEPT_ITEM.match(item)
        if match is None or match.group(1) == "*":
            continue
        quality = float(match.group(2)) if match.group(2) else 1.0
        if quality > 0:
            weighted.append((-quality, index, match.group(1)))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(ui_locales: Iterable[str], accept_language: str | None) -> str:
    for tag in [*ui_locales, *_accepted(accept_language or "")]:
        if _primary(tag) in CATALOGS:
            return _primary(tag)
    return DEFAULT


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in CATALOGS else DEFAULT
        self._texts = CATALOGS[self.lang]

    def knows(self, key: str) -> bool:
        return key in self._texts or key in CATALOGS[DEFAULT]

    def __call__(self, key: str, **values: str) -> str:
        text = self._texts.get(key) or CATALOGS[DEFAULT].get(key) or key
        return text.format(**values) if values else text
