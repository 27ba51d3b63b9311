"""Customer email: composing messages (text + HTML, .ics) and sending them over SMTP.

``transport.send_mail`` is the only place that talks SMTP (stdlib ``smtplib``), so any
provider works; ``catcher`` is the local SMTP server with a web page used by ``make run``
and the tests.
"""

from pelubot_web.mail.transport import SmtpSettings, parse_smtp_url, send_mail

__all__ = ["SmtpSettings", "parse_smtp_url", "send_mail"]
