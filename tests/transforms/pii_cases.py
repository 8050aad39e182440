"""Evaluation table for PII redaction: realistic sentences, what must go, what must stay.

Written before reading the finder rules, so it measures them instead of mirroring them.
Every value is fake: example.* mail domains, published test card numbers (Luhn-valid),
the example IBANs from the registry and bank documentation, and numbers from the ranges
regulators reserve for fiction (UK 07700 900xxx / 020 7946 0xxx / 0161 496 0xxx,
NANP 555-01xx, AU 02 5550 xxxx) or obviously made-up sequences for other countries.

``PII_CASES`` lists sentences with the exact substrings that must be redacted and their
kind; ``LOOKALIKES`` lists sentences whose digit-heavy substrings must survive untouched.
The table test (test_pii_table.py) turns both into leak and over-redaction rates.
"""

from __future__ import annotations

from typing import NamedTuple


class PiiCase(NamedTuple):
    """A sentence, where it is from, each (substring, kind) to redact, and what must stay."""

    text: str
    country: str
    pii: tuple[tuple[str, str], ...]
    keep: tuple[str, ...] = ()


class LookAlike(NamedTuple):
    """A sentence, what sort of look-alike it holds, and the substrings that must survive."""

    text: str
    sort: str
    keep: tuple[str, ...]


PII_CASES: tuple[PiiCase, ...] = (
    # --- emails -----------------------------------------------------------------------
    PiiCase(
        "Please send the refund confirmation to jane.doe@example.com, not my work address.",
        "US",
        (("jane.doe@example.com", "EMAIL"),),
    ),
    PiiCase(
        "I signed up with john.smith+orders@example.com and never got the receipt",
        "US",
        (("john.smith+orders@example.com", "EMAIL"),),
    ),
    PiiCase(
        "Customer asked us to reply to o'connor.sean@example.ie instead.",
        "IE",
        (("o'connor.sean@example.ie", "EMAIL"),),
    ),
    PiiCase(
        "contact: maria.garcia@correo.example.com (personal, not the shop one)",
        "ES",
        (("maria.garcia@correo.example.com", "EMAIL"),),
    ),
    PiiCase(
        "EMAIL ON FILE IS J.SCHMIDT@MAIL.EXAMPLE.NET BUT HE DOES NOT USE IT ANY MORE",
        "DE",
        (("J.SCHMIDT@MAIL.EXAMPLE.NET", "EMAIL"),),
    ),
    PiiCase(
        "cust says mails to pierre_dupont@example.org bounce",
        "FR",
        (("pierre_dupont@example.org", "EMAIL"),),
    ),
    PiiCase(
        "Forwarded to support-team@helpdesk.example.org for follow up.",
        "GB",
        (("support-team@helpdesk.example.org", "EMAIL"),),
    ),
    PiiCase(
        "Reply went to d'angelo.marco@example.net?? never got anything",
        "IT",
        (("d'angelo.marco@example.net", "EMAIL"),),
    ),
    PiiCase(
        'From: Chris O\'Neil <chris.oneil@example.com> "where is my order"',
        "GB",
        (("chris.oneil@example.com", "EMAIL"),),
    ),
    PiiCase(
        "agent note: new email jan.de.vries@example.nl confirmed by phone",
        "NL",
        (("jan.de.vries@example.nl", "EMAIL"),),
    ),
    PiiCase(
        "rahul.sharma1987@in.example.com - please call back, urgent",
        "IN",
        (("rahul.sharma1987@in.example.com", "EMAIL"),),
    ),
    PiiCase(
        'he spelled it "Li.Wei@Example.COM" twice',
        "CN",
        (("Li.Wei@Example.COM", "EMAIL"),),
    ),
    PiiCase(
        "typed on my phone: o\u2019reilly.kate@example.com (autocorrect made the quote curly)",
        "GB",
        (("o\u2019reilly.kate@example.com", "EMAIL"),),
    ),
    # --- phones: UK -------------------------------------------------------------------
    PiiCase(
        "Call me on 07700 900123 after 5pm.",
        "GB",
        (("07700 900123", "PHONE"),),
    ),
    PiiCase(
        "my mobile is +44 7700 900456 if the courier needs it",
        "GB",
        (("+44 7700 900456", "PHONE"),),
    ),
    PiiCase(
        "landline (020) 7946 0018, ask for Sam",
        "GB",
        (("(020) 7946 0018", "PHONE"),),
    ),
    PiiCase(
        "+44 (0)20 7946 0958 is the office number",
        "GB",
        (("+44 (0)20 7946 0958", "PHONE"),),
    ),
    PiiCase(
        "tel 0161 496 0321, best after 6",
        "GB",
        (("0161 496 0321", "PHONE"),),
    ),
    PiiCase(
        "text 07700-900-789 when the driver is outside",
        "GB",
        (("07700-900-789", "PHONE"),),
    ),
    # --- phones: US / NANP ------------------------------------------------------------
    PiiCase(
        "Reach me at (212) 555-0123 ext. 45 during business hours.",
        "US",
        (("(212) 555-0123", "PHONE"),),
    ),
    PiiCase(
        "cell 415.555.0147 - text first",
        "US",
        (("415.555.0147", "PHONE"),),
    ),
    PiiCase(
        "my number is +1 202-555-0181",
        "US",
        (("+1 202-555-0181", "PHONE"),),
    ),
    PiiCase(
        "1-800-555-0199 kept hanging up on me",
        "US",
        (("1-800-555-0199", "PHONE"),),
    ),
    PiiCase(
        "call 312-555-0176 x204 and ask for billing",
        "US",
        (("312-555-0176", "PHONE"),),
    ),
    # --- phones: Germany --------------------------------------------------------------
    PiiCase(
        "Rückruf bitte unter 030/12345678.",
        "DE",
        (("030/12345678", "PHONE"),),
    ),
    PiiCase(
        "please call +49 30 12345678 tomorrow",
        "DE",
        (("+49 30 12345678", "PHONE"),),
    ),
    PiiCase(
        "Handy 0151 23456789, Festnetz geht nicht",
        "DE",
        (("0151 23456789", "PHONE"),),
    ),
    PiiCase(
        "reachable at 0049 89 12345678 in the mornings",
        "DE",
        (("0049 89 12345678", "PHONE"),),
    ),
    # --- phones: France ---------------------------------------------------------------
    PiiCase(
        "Vous pouvez me joindre au 01 23 45 67 89.",
        "FR",
        (("01 23 45 67 89", "PHONE"),),
    ),
    PiiCase(
        "portable +33 6 12 34 56 78",
        "FR",
        (("+33 6 12 34 56 78", "PHONE"),),
    ),
    PiiCase(
        "rappelez-moi au 06.12.34.56.78 svp",
        "FR",
        (("06.12.34.56.78", "PHONE"),),
    ),
    # --- phones: Spain ----------------------------------------------------------------
    PiiCase(
        "llamar al +34 912 345 678 por la tarde",
        "ES",
        (("+34 912 345 678", "PHONE"),),
    ),
    PiiCase(
        "mi móvil es 612 34 56 78",
        "ES",
        (("612 34 56 78", "PHONE"),),
    ),
    # --- phones: Italy ----------------------------------------------------------------
    PiiCase(
        "ufficio +39 06 1234 5678, chiedere di Paolo",
        "IT",
        (("+39 06 1234 5678", "PHONE"),),
    ),
    PiiCase(
        "cell. 347 123 4567",
        "IT",
        (("347 123 4567", "PHONE"),),
    ),
    # --- phones: Netherlands ----------------------------------------------------------
    PiiCase(
        "bel me op +31 20 123 4567",
        "NL",
        (("+31 20 123 4567", "PHONE"),),
    ),
    PiiCase(
        "mobiel 06-12345678 (na 18u)",
        "NL",
        (("06-12345678", "PHONE"),),
    ),
    # --- phones: India ----------------------------------------------------------------
    PiiCase(
        "whatsapp +91 98765 43210 for delivery updates",
        "IN",
        (("+91 98765 43210", "PHONE"),),
    ),
    PiiCase(
        "office +91-22-2345-6789 is closed on Sunday",
        "IN",
        (("+91-22-2345-6789", "PHONE"),),
    ),
    # --- phones: Australia ------------------------------------------------------------
    PiiCase(
        "ring +61 2 9876 5432 after lunch",
        "AU",
        (("+61 2 9876 5432", "PHONE"),),
    ),
    PiiCase(
        "mobile 0412 345 678",
        "AU",
        (("0412 345 678", "PHONE"),),
    ),
    PiiCase(
        "home phone (02) 5550 1234",
        "AU",
        (("(02) 5550 1234", "PHONE"),),
    ),
    # --- phones: Brazil ---------------------------------------------------------------
    PiiCase(
        "celular +55 11 91234-5678",
        "BR",
        (("+55 11 91234-5678", "PHONE"),),
    ),
    PiiCase(
        "telefone (11) 3456-7890 em horário comercial",
        "BR",
        (("(11) 3456-7890", "PHONE"),),
    ),
    # --- cards ------------------------------------------------------------------------
    PiiCase(
        "card 4111 1111 1111 1111 was charged twice",
        "US",
        (("4111 1111 1111 1111", "CARD"),),
    ),
    PiiCase(
        "cust gave 4111-1111-1111-1111 exp 09/28",
        "GB",
        (("4111-1111-1111-1111", "CARD"),),
    ),
    PiiCase(
        "visa 4012888888881881 declined at checkout",
        "US",
        (("4012888888881881", "CARD"),),
    ),
    PiiCase(
        "Mastercard 5555 5555 5555 4444, please refund to it",
        "GB",
        (("5555 5555 5555 4444", "CARD"),),
    ),
    PiiCase(
        "paid with 5105-1051-0510-5100 on the 3rd",
        "DE",
        (("5105-1051-0510-5100", "CARD"),),
    ),
    PiiCase(
        "Amex 3782 822463 10005 was the one I used",
        "US",
        (("3782 822463 10005", "CARD"),),
    ),
    PiiCase(
        "amex 371449635398431.",
        "US",
        (("371449635398431", "CARD"),),
    ),
    PiiCase(
        "new mastercard 2223003122003222 still refused",
        "FR",
        (("2223003122003222", "CARD"),),
    ),
    PiiCase(
        "old visa 4222222222222 (13 digits)",
        "US",
        (("4222222222222", "CARD"),),
    ),
    PiiCase(
        "Discover 6011 1111 1111 1117",
        "US",
        (("6011 1111 1111 1117", "CARD"),),
    ),
    PiiCase(
        "card number is 4111 1111, rest is 1111 1111",
        "GB",
        (("4111 1111", "CARD"), ("1111 1111", "CARD")),
    ),
    PiiCase(
        "he read 5555 5555 then 5555 4444 and hung up",
        "US",
        (("5555 5555", "CARD"), ("5555 4444", "CARD")),
    ),
    # --- IBANs ------------------------------------------------------------------------
    PiiCase(
        "IBAN GB82 WEST 1234 5698 7654 32 for the refund",
        "GB",
        (("GB82 WEST 1234 5698 7654 32", "IBAN"),),
    ),
    PiiCase(
        "refund to GB82WEST12345698765432 please",
        "GB",
        (("GB82WEST12345698765432", "IBAN"),),
    ),
    PiiCase(
        "Bitte auf DE89 3704 0044 0532 0130 00 erstatten.",
        "DE",
        (("DE89 3704 0044 0532 0130 00", "IBAN"),),
    ),
    PiiCase(
        "IBAN: DE89370400440532013000",
        "DE",
        (("DE89370400440532013000", "IBAN"),),
    ),
    PiiCase(
        "mon IBAN FR14 2004 1010 0505 0001 3M02 606 merci",
        "FR",
        (("FR14 2004 1010 0505 0001 3M02 606", "IBAN"),),
    ),
    PiiCase(
        "virement sur FR7630006000011234567890189",
        "FR",
        (("FR7630006000011234567890189", "IBAN"),),
    ),
    PiiCase(
        "rekening NL91 ABNA 0417 1643 00",
        "NL",
        (("NL91 ABNA 0417 1643 00", "IBAN"),),
    ),
    PiiCase(
        "NL91ABNA0417164300 is mijn rekening",
        "NL",
        (("NL91ABNA0417164300", "IBAN"),),
    ),
    PiiCase(
        "cuenta ES91 2100 0418 4502 0005 1332",
        "ES",
        (("ES91 2100 0418 4502 0005 1332", "IBAN"),),
    ),
    PiiCase(
        "transferencia a ES9121000418450200051332, gracias",
        "ES",
        (("ES9121000418450200051332", "IBAN"),),
    ),
    PiiCase(
        "typed in lower case: gb82west12345698765432",
        "GB",
        (("gb82west12345698765432", "IBAN"),),
    ),
    # --- several kinds in one note, next to look-alikes -------------------------------
    PiiCase(
        "Order 112-3456789-0123456: refund to card 4111 1111 1111 1111, "
        "confirm to jane.doe@example.com",
        "US",
        (("4111 1111 1111 1111", "CARD"), ("jane.doe@example.com", "EMAIL")),
        ("112-3456789-0123456",),
    ),
    PiiCase(
        "email o'brien@example.co.uk or call 07700 900321 about ticket #4481923",
        "GB",
        (("o'brien@example.co.uk", "EMAIL"), ("07700 900321", "PHONE")),
        ("4481923",),
    ),
    PiiCase(
        "Rechnung 2024-03-15: Rückzahlung auf DE89 3704 0044 0532 0130 00, Tel. 030/12345678",
        "DE",
        (("DE89 3704 0044 0532 0130 00", "IBAN"), ("030/12345678", "PHONE")),
        ("2024-03-15",),
    ),
)


LOOKALIKES: tuple[LookAlike, ...] = (
    # --- order, invoice, ticket and case numbers --------------------------------------
    LookAlike("Order 112-3456789-0123456 never arrived.", "order", ("112-3456789-0123456",)),
    LookAlike("order #402-8837261-5519034 arrived damaged", "order", ("402-8837261-5519034",)),
    LookAlike("Invoice INV-2024-001234 has the wrong VAT", "invoice", ("INV-2024-001234",)),
    LookAlike("Rechnungsnummer 2024/123456 ist falsch", "invoice", ("2024/123456",)),
    LookAlike("please call about invoice 2024/123456", "invoice", ("2024/123456",)),
    LookAlike("Ticket #4481923 reopened by customer", "ticket", ("4481923",)),
    LookAlike("see case number 00123456 for history", "case", ("00123456",)),
    LookAlike("case 000123456789 escalated again", "case", ("000123456789",)),
    LookAlike("linked to ServiceNow INC0012345", "ticket", ("INC0012345",)),
    LookAlike("SKU 100-200-300 out of stock again", "sku", ("100-200-300",)),
    LookAlike(
        "booking reference 7X4K9P, e-ticket 125-2345678904", "ticket", ("7X4K9P", "125-2345678904")
    ),
    # --- serials and versions ---------------------------------------------------------
    LookAlike("Serial SN 8841-2290-7712 on the back of the unit.", "serial", ("8841-2290-7712",)),
    LookAlike("unit SN 8841-2290-7712 keeps rebooting", "serial", ("8841-2290-7712",)),
    LookAlike("sticker on the box says 8841-2290-7712", "serial", ("8841-2290-7712",)),
    LookAlike("S/N: C02XK1ZJJG5H, bought last year", "serial", ("C02XK1ZJJG5H",)),
    LookAlike("app version 4.12.3 (build 20240315) crashes", "version", ("4.12.3", "20240315")),
    LookAlike("Windows build 10.0.19045.3803 after the update", "version", ("10.0.19045.3803",)),
    # --- flights ----------------------------------------------------------------------
    LookAlike("Flight BA0283 was delayed by 3 hours.", "flight", ("BA0283",)),
    LookAlike("flight LH 400 from FRA, seat 23C", "flight", ("LH 400", "23C")),
    # --- dates and times --------------------------------------------------------------
    LookAlike("Delivered 15/03/2024 at 14:30", "date", ("15/03/2024", "14:30")),
    LookAlike("ordered on 2024-03-15T09:12:45Z", "date", ("2024-03-15T09:12:45Z",)),
    LookAlike("zwischen 01.02.2024 und 15.02.2024", "date", ("01.02.2024", "15.02.2024")),
    LookAlike("on 03/15/2024 at 2:45 pm", "date", ("03/15/2024", "2:45 pm")),
    LookAlike("on hold 09:15:30 - 17:45:00", "time", ("09:15:30 - 17:45:00",)),
    LookAlike(
        "opened 2024-03-15 14:30:00, closed 2024-03-18",
        "date",
        ("2024-03-15 14:30:00", "2024-03-18"),
    ),
    LookAlike("member 2019-2024, renewed 15 March 2024", "date", ("2019-2024", "15 March 2024")),
    # --- money, percentages, quantities -----------------------------------------------
    LookAlike("Charged £1,234.56 instead of £123.45", "money", ("£1,234.56", "£123.45")),
    LookAlike("Betrag 1.234,56 € wurde doppelt abgebucht", "money", ("1.234,56 €",)),
    LookAlike("paid $12,345.67 total, EUR 1 299,00 quoted", "money", ("$12,345.67", "1 299,00")),
    LookAlike("discount was 12.5% not 15%, uptime 99.99%", "percent", ("12.5%", "99.99%")),
    LookAlike("ordered 3 x 250 ml, 1,000,000 points promised", "quantity", ("1,000,000",)),
    LookAlike("box 120x80x60 cm, 23.5 kg", "quantity", ("120x80x60", "23.5 kg")),
    # --- postcodes --------------------------------------------------------------------
    LookAlike("postcode SW1A 1AA, flat 4", "postcode", ("SW1A 1AA",)),
    LookAlike("ZIP 94105-1234 was rejected", "postcode", ("94105-1234",)),
    LookAlike("Lieferadresse 10115 Berlin", "postcode", ("10115",)),
    # --- parcel tracking --------------------------------------------------------------
    LookAlike(
        "UPS tracking 1Z999AA10123456784 shows delivered", "tracking", ("1Z999AA10123456784",)
    ),
    LookAlike("Royal Mail tracking JD123456789GB", "tracking", ("JD123456789GB",)),
    LookAlike("DHL Express waybill 4567891230 stuck in customs", "tracking", ("4567891230",)),
    LookAlike("DHL parcel JJD014600003829154376", "tracking", ("JJD014600003829154376",)),
    LookAlike(
        "USPS tracking 9400 1118 9922 3100 0123 45", "tracking", ("9400 1118 9922 3100 0123 45",)
    ),
    # --- groups of four digits a few words apart (the split-card rule must not fire) ---
    LookAlike(
        "customer since 2019, complained 2020, 2021 and 2023",
        "years",
        ("2019", "2020", "2021", "2023"),
    ),
    LookAlike("store hours 0900 1730, Sat 1000 1400", "time", ("0900 1730", "1000 1400")),
    LookAlike("batch 4021 3376, lot 5532 1190 on the jar", "batch", ("4021 3376", "5532 1190")),
    # --- barcodes and book numbers ----------------------------------------------------
    LookAlike("ISBN 978-3-16-148410-0 is the wrong edition", "isbn", ("978-3-16-148410-0",)),
    LookAlike("EAN 4006381333931 on the label", "barcode", ("4006381333931",)),
    # --- network and geo --------------------------------------------------------------
    LookAlike(
        "router at 192.168.10.254, modem 10.20.30.40", "ip", ("192.168.10.254", "10.20.30.40")
    ),
    LookAlike("pin dropped at 51.5072, -0.1276", "geo", ("51.5072, -0.1276",)),
    LookAlike("meter reading 004512.7 on 01.03.2024", "reading", ("004512.7", "01.03.2024")),
)
