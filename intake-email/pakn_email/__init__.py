"""The mailbox pakn@khanhhoa.gov.vn: IMAP intake, MIME parsing, SMTP acknowledgements."""
