"""Tests for the root-cause matcher and the default taxonomy.

The sentences below were written for these tests, independently of the event
generator's phrase lists. Each batch was first run against the taxonomy as unseen
wording (recall was only 27-38%: regexes generalise poorly), then the taxonomy was
widened and the batch kept here so that coverage never silently regresses.
"""

from __future__ import annotations

import functools
import pickle
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voc.transforms.match_root_causes import match_root_causes
from voc.transforms.normalize_text import fold_apostrophes
from voc.transforms.records import CauseMatch
from voc.transforms.taxonomy import (
    TRIAGE_DEPARTMENT,
    UNCLASSIFIED,
    Cause,
    Taxonomy,
    TaxonomyError,
    load_taxonomy,
    parse_taxonomy,
)


@functools.cache
def default_taxonomy() -> Taxonomy:
    """Loaded once: analysing every pattern takes a noticeable fraction of a second."""
    return load_taxonomy()


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return default_taxonomy()


def cause_ids(text: str, taxonomy: Taxonomy, signals=None) -> list[str]:
    return [match.cause_id for match in match_root_causes(text, taxonomy, signals)]


REALISTIC: dict[str, list[str]] = {
    "product_defect": [
        "Ever since Tuesday the app crashes whenever I open the camera tab.",
        "The thermostat has stopped responding to the app entirely.",
        "Keep getting error code E42 when I try to sync.",
        "My earbuds won't pair with my phone anymore.",
        "There's a nasty bug in the latest release that wipes my playlists.",
        "Screen freezes for a few seconds then the whole thing reboots.",
        "The charger port is defective, it only works at an angle.",
        "it doesnt work. at all.",
    ],
    "missing_feature": [
        "Why is there no option to download my invoices as PDF?",
        "I really wish the app let me set different alarms for weekends.",
        "Your software doesn't support hardware security keys.",
        "Would love to see an integration with Slack.",
        "Please bring back the old widget.",
        "Can't export anything to Excel which is a basic requirement.",
        "The mobile app is missing features that the website has.",
    ],
    "performance": [
        "The portal is really slow in the mornings.",
        "Pages take forever to load on my laptop.",
        "Constant lag when streaming, the picture stutters.",
        "The checkout keeps timing out.",
        "Since the last update my phone battery drains twice as fast.",
        "Everything is sluggish after the firmware update.",
        "Loading times are awful.",
    ],
    "unclear_docs": [
        "The installation guide assumes you already know what a DNS server is.",
        "Nothing in the manual about resetting the device.",
        "The help centre article is out of date and shows the old menu.",
        "Instructions unclear, ended up wiring it backwards.",
        "Your FAQ is confusing about how refunds work.",
        "The user guide doesn't explain what the blinking orange light means.",
        "Tutorial videos skip the part where you connect the sensor.",
    ],
    "marketing_overpromise": [
        "The advert showed it cleaning stairs, it can't even climb a rug.",
        "Your TV commercial promised 5G everywhere.",
        "This is nowhere near the 10 hours of battery you advertise.",
        "Totally misleading marketing.",
        "The offer on your website said free installation.",
        "Not what was advertised.",
        "Advertised as waterproof but died in the rain.",
    ],
    "sales_mis_sold": [
        "The rep in your shop sold me a contract I didn't need.",
        "Your salesman lied about the price lock.",
        "I was talked into the premium bundle.",
        "I was told by sales that I'd get a free phone.",
        "Mis-sold broadband that doesn't even reach my area.",
        "The sales team never mentioned the installation fee.",
    ],
    "billing_error": [
        "You've taken two payments for the same month.",
        "There's an unauthorised transaction on my account.",
        "My bill doubled this month for no reason.",
        "Charged me for a service I never signed up for.",
        "Incorrect amount on my invoice.",
        "Why am I being billed after cancelling?",
        "the promo code wasnt applied",
    ],
    "refund_delay": [
        "It's been six weeks and still no refund.",
        "Refund has not been processed yet.",
        "I'm still waiting on my refund from October.",
        "Where's my reimbursement?",
        "My refund is taking ages.",
    ],
    "long_hold": [
        "45 minutes on hold, seriously?",
        "I was kept waiting for over an hour.",
        "Hold times are unacceptable.",
        "Spent ages in your phone queue.",
        "Couldn't get through to anyone.",
        "The wait to speak to someone was ridiculous.",
    ],
    "transfers": [
        "I was passed from pillar to post.",
        "Transferred four times and still no answer.",
        "They kept transferring me.",
        "I had to re-explain my problem to three different agents.",
        "Your phone menu sent me to the wrong team.",
    ],
    "rigid_policy": [
        "Refused to take it back because I'd opened the box.",
        "Your returns policy is absurd.",
        "They hid behind their terms and conditions.",
        "No exceptions, apparently.",
        "I was a few days past the warranty period.",
        "Store credit only? Ridiculous.",
    ],
    "delivery_delay": [
        "My delivery is now a week late.",
        "Parcel stuck in transit for 10 days.",
        "The estimated delivery date keeps changing.",
        "Still no sign of my package.",
        "Driver never turned up.",
        "Your courier left it at the wrong address.",
    ],
    "damaged_item": [
        "The vase arrived smashed.",
        "Box was ripped open and half the contents gone.",
        "You sent the wrong model.",
        "There's a big dent in the side, must have been dropped in transit.",
        "The remote was missing from the box.",
        "It was scratched when I unboxed it.",
    ],
    "account_access": [
        "Can't get into my account since the app update.",
        "My login doesn't work anymore.",
        "Never received the SMS code to sign in.",
        "Account locked after too many attempts.",
        "Reset password link does nothing.",
        "I can't sign in with my email anymore.",
    ],
    "agent_knowledge": [
        "The advisor had no clue what I was talking about.",
        "I was given incorrect advice about my contract.",
        "Every person I spoke to said something different.",
        "Agent clearly didn't understand the problem.",
        "They just sent canned responses.",
        "Your staff need better training.",
    ],
    "repeat_contact": [
        "Fourth time contacting you about this!",
        "I've called five times and nobody fixes it.",
        "You promised to call me back and never did.",
        "Still chasing this after three emails.",
        "Raised this twice already.",
        "This is the same problem I reported last month.",
    ],
}

# Later rounds: sentences first used to measure recall on unseen phrasing (see the
# module docstring), kept as regression cases once the taxonomy covered them.
MORE_REALISTIC: dict[str, list[str]] = {
    "product_defect": [
        "The kettle's touch panel is completely unresponsive.",
        "Half the buttons do nothing since the patch.",
        "App shuts down randomly when I scroll.",
        "Sound cuts out every few minutes on the earbuds.",
        "The fridge app logs me out every hour and loses my settings.",
        "Camera footage is corrupted half the time.",
        "Since yesterday the doorbell just beeps and does nothing.",
        "The smart plug randomly turns itself back on at night.",
        "Half my photos failed to upload and the app just says something went wrong.",
        "The heating schedule resets itself whenever there's a power cut.",
    ],
    "missing_feature": [
        "It can't even do split billing, which I assumed was standard.",
        "Any plans to add Apple Watch support?",
        "You removed the sleep timer and I need it back.",
        "There's no dark theme.",
        "Would be handy if I could pause my subscription instead of cancelling.",
        "You really need a family plan option.",
        "It doesn't let me choose which devices get notifications.",
        "I can't believe there's still no way to use it without an internet connection.",
        "Let us share one account between two phones please.",
        "There is no setting for 24-hour time.",
    ],
    "performance": [
        "It takes about a minute just to open the app.",
        "The site crawls at peak times.",
        "Response is super slow when I search.",
        "Wi-Fi speed drops to nothing every evening.",
        "Downloads crawl along at 2MB/s.",
        "Every click in the dashboard has a delay of several seconds.",
        "The TV app buffers constantly in the evening.",
        "Opening the settings menu takes ages.",
        "The whole thing grinds to a halt when more than two people are online.",
        "Video calls keep freezing and lagging.",
    ],
    "unclear_docs": [
        "The diagrams in the booklet make no sense.",
        "Your setup video is for a different model.",
        "The help pages are impossible to follow.",
        "I couldn't find anything in your docs about VPN settings.",
        "None of the steps in the guide match what I see on screen.",
        "Your instructions say to press a button that doesn't exist.",
        "I had to find a YouTube video because the manual was useless.",
        "The quick-start card is missing the step about the reset pin.",
        "Nowhere does it say you need a separate hub.",
        "Your online help is written for engineers, not normal people.",
    ],
    "marketing_overpromise": [
        "The billboard said no contract, that's false.",
        "The packaging claims 2 year battery life.",
        "You sold this as a smart hub but it barely does anything.",
        "That deal on Facebook was a lie.",
        "Your ads make it look so much better than it is.",
        "The website promised same day setup.",
        "I only bought it because of the 'free for a year' promo,"
        " which turned out to be one month.",
        "It was sold to me as working with Alexa, it doesn't.",
        "The adverts are frankly dishonest.",
        "Your homepage says 'no hidden fees' but there are plenty.",
    ],
    "sales_mis_sold": [
        "The sales advisor put me on the wrong tariff.",
        "I was promised a discount by the rep in store that never appeared.",
        "The man at the shop said I could return it anytime.",
        "They signed me up for insurance I never asked for.",
        "The rep on the phone sold me fibre that isn't available at my address.",
        "Was sold a package far bigger than I need.",
        "The store assured me it came with a case.",
        "Your telesales person signed me up to a two year deal without asking.",
        "The shop told me the phone was unlocked, it's locked to your network.",
        "I was upsold insurance that covers nothing.",
    ],
    "billing_error": [
        "I've been overcharged for three months.",
        "There's a payment I don't recognise.",
        "The direct debit went out twice.",
        "Your invoice has the wrong VAT rate.",
        "I was charged the full price even though I had a coupon.",
        "My account shows a debit I never authorised.",
        "The monthly fee went up without any warning.",
        "You've charged me for two lines when I only have one.",
        "The amount taken doesn't match my bill.",
        "I got a late payment fee even though I paid on time.",
    ],
    "refund_delay": [
        "No refund yet, it's been a month.",
        "Been waiting 6 weeks for my money back.",
        "The refund you promised hasn't shown up.",
        "I'm owed a refund and nobody is processing it.",
        "I returned it a month ago and the money still isn't back.",
        "How long does a refund take? It's been weeks.",
        "My refund was approved but it never hit my account.",
        "Your team confirmed my refund 3 weeks ago and I'm still out of pocket.",
        "Can someone tell me when I'll actually get my money back?",
    ],
    "long_hold": [
        "I hung on the line for an hour and a half.",
        "Your wait times are insane.",
        "Put on hold three times during one call.",
        "Took 50 minutes to reach an agent.",
        "Nobody picked up for 40 minutes.",
        "The queue said I was number 37.",
        "Waited over an hour to talk to someone.",
        "I spent my entire lunch break on hold.",
        "The phone line is always busy.",
        "It took an hour and twenty minutes to speak to a person.",
    ],
    "transfers": [
        "Got bounced around four departments.",
        "Transferred again and again.",
        "They passed me to billing who passed me back.",
        "Nobody could help so I was handed off to someone else, twice.",
        "I got moved between four different teams.",
        "Billing sent me to tech, tech sent me back to billing.",
        "Passed along three times before anyone listened.",
        "Every time I got through they put me through to someone else.",
        "I was transferred back and forth between sales and support.",
        "Three different departments, nobody took responsibility.",
    ],
    "rigid_policy": [
        "You wouldn't bend the rules even slightly.",
        "Apparently policy says no refunds after 14 days.",
        "They wouldn't honour the warranty because of a scratch.",
        "Refund refused due to your terms.",
        "You won't replace it because I lost the receipt?",
        "The rules don't allow a refund after 14 days, even for a faulty item.",
        "Told there was nothing they could do because of company policy.",
        "They said it's company policy and wouldn't discuss it.",
        "I was refused an exchange because the packaging was opened.",
        "Apparently you can't cancel within the first 12 months, no matter what.",
    ],
    "delivery_delay": [
        "Order placed three weeks ago and nothing.",
        "Shipping is taking forever.",
        "The parcel was meant to come on Friday, still nothing.",
        "My delivery was postponed again.",
        "It's been 10 days and my order hasn't even shipped.",
        "Delivery was supposed to be Tuesday, now they say next week.",
        "Tracking has been stuck on 'in transit' for a week.",
        "My parcel has been 'out for delivery' for three days.",
        "Still haven't received the order I placed on the 2nd.",
        "The delivery slot was missed twice.",
    ],
    "damaged_item": [
        "The glass top was shattered in the box.",
        "Half the parts were missing.",
        "It arrived with a huge scratch down the side.",
        "The item was dented when it came.",
        "The TV came with a crack across the screen.",
        "Packaging was soaked and the box fell apart.",
        "I received a used item instead of a new one.",
        "The lamp arrived in pieces.",
        "One of the chairs was missing a leg.",
        "Sent me a black one instead of the silver I ordered.",
    ],
    "account_access": [
        "The app keeps saying my password is wrong.",
        "Locked out again!",
        "I never got the one-time code.",
        "My account has been disabled and I don't know why.",
        "Every time I try to log in it says my account doesn't exist.",
        "I can't reset my password because the link expired.",
        "My account got blocked after I changed phones.",
        "I'm unable to access my online account.",
        "The authentication app keeps rejecting my code.",
        "Locked out after the update, can't get back in.",
    ],
    "agent_knowledge": [
        "The agent had no idea what she was doing.",
        "The person I spoke to gave me completely wrong advice.",
        "Nobody there seems to know the product.",
        "I knew more than the support person.",
        "The chat agent kept giving me generic answers that didn't help.",
        "Your support person couldn't answer a single question.",
        "I was told two completely different things by two agents.",
        "Your agent kept reading out the same FAQ answer.",
        "The woman on chat didn't understand what I was asking.",
        "Nobody could tell me why my bill changed.",
    ],
    "repeat_contact": [
        "This is my 5th call about the same issue.",
        "I have emailed three times without an answer.",
        "Still not fixed after multiple calls.",
        "I was told someone would ring me back, nobody did.",
        "I have had to get in touch three times now.",
        "Every time I call I have to start over.",
        "I'm still waiting for the callback I was promised last week.",
        "This is the fifth email I've sent about this.",
        "I rang last week and was promised a fix, nothing happened.",
        "Why do I have to keep contacting you?",
    ],
}
for _cause, _texts in MORE_REALISTIC.items():
    REALISTIC[_cause].extend(_texts)

REALISTIC_CASES = [(cause, text) for cause, texts in REALISTIC.items() for text in texts]


def test_every_default_cause_has_realistic_examples(taxonomy: Taxonomy) -> None:
    assert set(REALISTIC) == set(taxonomy.cause_ids)
    assert all(len(texts) >= 5 for texts in REALISTIC.values())


@pytest.mark.parametrize(("cause", "text"), REALISTIC_CASES)
def test_default_cause_found_in_realistic_sentence(
    taxonomy: Taxonomy, cause: str, text: str
) -> None:
    assert cause in cause_ids(text, taxonomy), text


# Sentences about happy customers, or using cause words in harmless senses, that a
# pattern written without word boundaries or context would wrongly tag.
NEGATIVES = [
    "The build finished without issues.",
    "I debugged the setup myself and it works.",
    "The adapter is great and so is the app.",
    "I had a bad day but the agent was brilliant.",
    "Please hold the door for the engineer.",
    "My order arrived on time and works perfectly.",
    "Bank transfer worked fine.",
    "Transferring money between accounts is easy now.",
    "The policy renewal went smoothly.",
    "I upgraded my plan and love it.",
    "My package arrived early!",
    "Got my refund quickly, thanks.",
    "Thanks for the callback, very helpful.",
    "The latest update is excellent.",
    "We sat by the lagoon and drank lager.",
    "The policyholder details were updated.",
    "Great service, Priya sorted it out in minutes.",
    "I read the manual and it was clear.",
    "Sold out quickly, glad I got one.",
    "The billing team were lovely.",
    "Great product, works exactly as described.",
    "The engineer arrived on time and was very polite.",
    "Setup took five minutes, really easy.",
    "I love the new design of the app.",
    "My question about pricing was answered straight away.",
    "The delivery was quick and the driver was friendly.",
    "Thanks for sorting my address change.",
    "Everything is working fine now, cheers.",
    "I'd recommend you to my friends.",
    "Good value for money.",
    "Your staff were knowledgeable and kind.",
    "I called to ask about upgrading and the advice was helpful.",
    "The refund came through within two days, impressive.",
    "Billing is clear and easy to understand.",
    "I just wanted to say thank you.",
    "Very smooth returns process.",
    "The manual explained everything I needed.",
    "Speedy service as always.",
    "No issues at all this time.",
    "Happy with the outcome.",
    "The app update added some nice features.",
    "The chat agent solved it first time.",
    "Quick response and a friendly tone.",
    "I was on the phone for two minutes and it was sorted.",
    "The new router is much faster than the old one.",
    "Tracking was accurate and the parcel came early.",
    "Easy to log in and change my plan.",
    "The price is fair.",
    "Customer service was excellent.",
    "Nothing to complain about.",
    "",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_harmless_text_is_unclassified(taxonomy: Taxonomy, text: str) -> None:
    assert match_root_causes(text, taxonomy) == [CauseMatch(UNCLASSIFIED, TRIAGE_DEPARTMENT, "")]


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("The build was fine.", "product_defect"),  # "build" is not "bug"
        ("Debugging tools are handy.", "product_defect"),
        ("The badge looks nice.", "marketing_overpromise"),  # "ad" inside "badge"
        ("A household name.", "long_hold"),
        ("The flag was red.", "performance"),  # "lag" inside "flag"
        ("I crashed my bike, not your fault.", "delivery_delay"),
        ("Reshipping labels are easy to print.", "delivery_delay"),
    ],
)
def test_word_boundaries_prevent_matches_inside_words(
    taxonomy: Taxonomy, text: str, absent: str
) -> None:
    assert absent not in cause_ids(text, taxonomy)


def test_multi_label_in_taxonomy_order_with_one_match_per_cause(taxonomy: Taxonomy) -> None:
    text = (
        "I waited on hold for 40 minutes, then found I was charged twice. "
        "The hold music was awful too and I was double billed last month as well."
    )
    matches = match_root_causes(text, taxonomy)
    ids = [match.cause_id for match in matches]
    assert ids == ["billing_error", "long_hold"]  # taxonomy order, not text order
    assert len(set(ids)) == len(ids)
    billing = matches[0]
    assert billing.department == "billing"
    assert billing.evidence == "charged twice | double billed"
    assert matches[1].department == "support_ops"


def test_evidence_is_the_exact_words_from_the_original_text(taxonomy: Taxonomy) -> None:
    (match,) = match_root_causes("I was CHARGED TWICE!!", taxonomy)
    assert match.evidence == "CHARGED TWICE"
    # Typographic apostrophes match patterns written with ' but are kept as typed.
    (match,) = match_root_causes("I can\u2019t log in at all", taxonomy)
    assert match.cause_id == "account_access"
    assert match.evidence == "can\u2019t log in"


def test_evidence_is_capped_and_distinct(taxonomy: Taxonomy) -> None:
    text = "App crashed. App crashed. It crashes daily, crashing again, what a crash."
    (match,) = match_root_causes(text, taxonomy)
    pieces = match.evidence.split(" | ")
    assert pieces == ["crashed", "crashes", "crashing"]


def test_decimal_amounts_do_not_end_a_sentence(taxonomy: Taxonomy) -> None:
    assert "billing_error" in cause_ids("You billed me £88.50 instead of £56.00.", taxonomy)


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        ({"hold_seconds": 900}, [("long_hold", "hold_seconds=900")]),
        ({"hold_seconds": 600.0}, [("long_hold", "hold_seconds=600")]),
        ({"hold_seconds": 599}, []),
        ({"transfers": 2}, [("transfers", "transfers=2")]),
        ({"transfers": 1}, []),
        (
            {"hold_seconds": 1200, "transfers": 3, "handle_seconds": 5000},
            [
                ("long_hold", "hold_seconds=1200"),
                ("transfers", "transfers=3"),
            ],
        ),
        ({"hold_seconds": None, "transfers": None}, []),
        ({"hold_seconds": True}, []),  # a bool is not a number of seconds
        ({}, []),
    ],
)
def test_signals_trigger_causes_at_thresholds(taxonomy: Taxonomy, signals, expected) -> None:
    matches = match_root_causes("Cust called re pricing. Resolved.", taxonomy, signals)
    if not expected:
        assert [m.cause_id for m in matches] == [UNCLASSIFIED]
    else:
        assert [(m.cause_id, m.evidence) for m in matches] == expected


def test_text_and_signal_evidence_are_combined(taxonomy: Taxonomy) -> None:
    (match,) = match_root_causes("Long wait in queue today.", taxonomy, {"hold_seconds": 1500})
    assert match.cause_id == "long_hold"
    assert match.evidence == "Long wait | hold_seconds=1500"


def test_unclassified_routes_to_triage(taxonomy: Taxonomy) -> None:
    assert UNCLASSIFIED == "unclassified"
    assert TRIAGE_DEPARTMENT == "support_ops"
    assert match_root_causes("Thanks!", taxonomy) == [CauseMatch("unclassified", "support_ops", "")]
    assert taxonomy.department_for(UNCLASSIFIED) == "support_ops"


def test_department_lookup(taxonomy: Taxonomy) -> None:
    assert taxonomy.department_for("billing_error") == "billing"
    assert taxonomy.department_for("delivery_delay") == "logistics"
    with pytest.raises(KeyError):
        taxonomy.department_for("no_such_cause")


def test_default_taxonomy_shape(taxonomy: Taxonomy) -> None:
    assert taxonomy.version == 1
    required = {"product", "docs", "marketing", "sales", "billing", "support_ops", "logistics"}
    assert required <= set(taxonomy.departments)
    assert "customer_policy" in taxonomy.departments
    assert len(taxonomy.causes) >= 12
    for cause in taxonomy.causes:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", cause.id)
        assert cause.department in taxonomy.departments
        assert cause.description
    by_id = {cause.id: cause for cause in taxonomy.causes}
    assert by_id["long_hold"].signals == {"hold_seconds_gte": 600}
    assert by_id["transfers"].signals == {"transfers_gte": 2}
    assert UNCLASSIFIED not in by_id


def test_taxonomy_pickles_for_distributed_workers(taxonomy: Taxonomy) -> None:
    restored = pickle.loads(pickle.dumps(taxonomy))
    text = "Charged twice, then on hold for 30 minutes."
    assert match_root_causes(text, restored) == match_root_causes(text, taxonomy)


# --------------------------------------------------------------------------- prefilter


def brute_force(text: str, taxonomy: Taxonomy) -> set[str]:
    """What running every pattern over the text finds: the prefilter must agree exactly."""
    folded = fold_apostrophes(text)
    found = {cause.id for cause in taxonomy.causes if any(p.search(folded) for p in cause.patterns)}
    return found or {UNCLASSIFIED}


VOCABULARY = sorted(
    {word for texts in REALISTIC.values() for text in texts for word in text.split()}
    | {
        "\u017f",
        "\u0130",
        "\u2019",
        "£49.99",
        "on",
        "hold",
        "refund",
        "still",
        "not",
        "x4",
        "3rd",
        "ad",
    }
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(VOCABULARY), max_size=30),
    st.sampled_from([" ", "  ", "\n", ", ", ". "]),
    st.booleans(),
)
def test_prefilter_agrees_with_running_every_pattern(words, separator, shout) -> None:
    taxonomy = default_taxonomy()
    text = separator.join(words)
    if shout:
        text = text.upper()
    assert {m.cause_id for m in match_root_causes(text, taxonomy)} == brute_force(text, taxonomy)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_prefilter_agrees_on_arbitrary_unicode(text: str) -> None:
    taxonomy = default_taxonomy()
    assert {m.cause_id for m in match_root_causes(text, taxonomy)} == brute_force(text, taxonomy)


UNUSUAL_TAXONOMY = textwrap.dedent(
    r"""
    version: 1
    departments:
      support_ops: "Triage"
      lab: "Odd patterns"
    causes:
      - id: no_boundaries
        description: "Pattern without word boundaries"
        department: lab
        patterns: ['zap+ed', 'qu[ia]ck']
      - id: lookbehind
        description: "Lookbehind and case-sensitive scope"
        department: lab
        patterns: ['(?<!not )\bwidget', '(?-i:NASA)\b']
      - id: backreference
        description: "Backreference and leading digits"
        department: lab
        patterns: ['\b(\w)\1\1\b', '\d{3}-\d{4}']
      - id: non_ascii
        description: "Non-ASCII literals"
        department: lab
        patterns: ['\bcafé\b', 'naïve']
      - id: handle
        description: "Signal only"
        department: lab
        signals: {handle_seconds_gte: 1800}
    """
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zappped it", {"no_boundaries"}),
        ("QUACK", {"no_boundaries"}),
        ("a widget", {"lookbehind"}),
        ("not widget", {UNCLASSIFIED}),
        ("nasa", {UNCLASSIFIED}),
        ("NASA rocks", {"lookbehind"}),
        ("zzz", {"backreference"}),
        ("555-0132", {"backreference"}),
        ("CAFÉ au lait", {"non_ascii"}),
        ("a NAÏVE idea", {"non_ascii"}),
    ],
)
def test_unusual_patterns_match_exactly(text: str, expected: set[str]) -> None:
    taxonomy = parse_taxonomy(UNUSUAL_TAXONOMY, "unusual.yaml")
    assert {m.cause_id for m in match_root_causes(text, taxonomy)} == expected
    assert brute_force(text, taxonomy) == expected


def test_handle_seconds_signal() -> None:
    taxonomy = parse_taxonomy(UNUSUAL_TAXONOMY, "unusual.yaml")
    matches = match_root_causes("", taxonomy, {"handle_seconds": 2400})
    assert matches == [CauseMatch("handle", "lab", "handle_seconds=2400")]


def test_taxonomy_built_directly_still_matches() -> None:
    cause = Cause("x", "X", "support_ops", (re.compile(r"\bwidget\b", re.IGNORECASE),), {})
    taxonomy = Taxonomy(1, {"support_ops": "Triage"}, (cause,))
    assert cause_ids("A Widget broke", taxonomy) == ["x"]


# --------------------------------------------------------------------------- errors

VALID = textwrap.dedent(
    """
    version: 1
    departments:
      support_ops: "Triage"
      billing: "Billing"
    causes:
      - id: billing_error
        description: "Wrong charges"
        department: billing
        patterns: ['\\bcharged twice\\b']
      - id: long_hold
        description: "Waiting"
        department: support_ops
        signals: {hold_seconds_gte: 600}
    """
)


def test_valid_minimal_taxonomy_parses() -> None:
    taxonomy = parse_taxonomy(VALID, "mini.yaml")
    assert taxonomy.cause_ids == ("billing_error", "long_hold")
    assert cause_ids("charged twice", taxonomy) == ["billing_error"]


def broken(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


ERROR_CASES = [
    ("version: 1\ndepartments: [\n", "invalid YAML at line"),
    ("- just\n- a list\n", "top level must be a mapping"),
    (broken("version: 1", "version: 2"), "unsupported version 2"),
    (broken("version: 1", "version: '1'"), "version must be the integer 1"),
    (VALID.replace("version: 1\n", ""), "missing required key 'version'"),
    (
        broken("department: billing", "department: finance"),
        "cause 'billing_error' names unknown department 'finance'",
    ),
    (broken("\\bcharged twice\\b", "("), "cause 'billing_error': pattern '(' is not a valid regex"),
    (broken("id: long_hold", "id: billing_error"), "duplicate cause id 'billing_error'"),
    (broken("hold_seconds_gte", "wait_gte"), "cause 'long_hold': unknown signal 'wait_gte'"),
    (broken("hold_seconds_gte: 600", "hold_seconds_gte: -5"), "needs a non-negative number"),
    (broken("hold_seconds_gte: 600", "hold_seconds_gte: lots"), "needs a non-negative number"),
    (
        broken("    department: billing\n", ""),
        "cause 'billing_error' is missing required key 'department'",
    ),
    (broken("patterns:", "pattern:"), "cause 'billing_error' has unknown key(s): pattern"),
    (
        broken('billing: "Billing"', 'billing: "Billing"\n  billing: "Again"'),
        "duplicate key 'billing'",
    ),
    (broken("id: long_hold", "id: unclassified"), "cause id 'unclassified' is reserved"),
    (
        broken("signals: {hold_seconds_gte: 600}", "patterns: []"),
        "cause 'long_hold' has neither patterns nor signals",
    ),
    (broken("\\bcharged twice\\b", "x*"), "matches empty text"),
    (broken("support_ops:", "triage:"), "departments must include 'support_ops'"),
    (broken("id: long_hold", "id: Long-Hold"), "id must be a snake_case string"),
    (broken("patterns: ['\\bcharged twice\\b']", "patterns: 'charged'"), "patterns must be a list"),
    (VALID + "extras: true\n", "unknown top-level key(s): extras"),
    ("version: 1\ndepartments: {}\ncauses: []\n", "'departments' must be a non-empty mapping"),
    (
        "version: 1\ndepartments: {support_ops: T}\ncauses: []\n",
        "'causes' must be a non-empty list",
    ),
]


@pytest.mark.parametrize(("text", "problem"), ERROR_CASES)
def test_taxonomy_errors_are_one_line_naming_file_and_problem(text: str, problem: str) -> None:
    with pytest.raises(TaxonomyError) as caught:
        parse_taxonomy(text, "taxonomy.yaml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("taxonomy.yaml: ")
    assert problem in message
    assert isinstance(caught.value, ValueError)


def test_yaml_error_reports_line_number() -> None:
    with pytest.raises(TaxonomyError, match=r"^t\.yaml: invalid YAML at line 3, column 17: "):
        parse_taxonomy("version: 1\ndepartments:\n  support_ops: a: b\n", "t.yaml")


def test_load_taxonomy_from_path_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "custom.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load_taxonomy(path).cause_ids == ("billing_error", "long_hold")
    assert load_taxonomy(str(path)).cause_ids == ("billing_error", "long_hold")

    missing = tmp_path / "missing.yaml"
    with pytest.raises(TaxonomyError, match=r"missing\.yaml: cannot read taxonomy"):
        load_taxonomy(missing)

    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(VALID.replace("Triage", "Tri\xe9").encode("latin-1"))
    with pytest.raises(TaxonomyError, match=r"latin1\.yaml: not valid UTF-8"):
        load_taxonomy(latin1)

    bad = tmp_path / "bad.yaml"
    bad.write_text(broken("department: billing", "department: finance"), encoding="utf-8")
    with pytest.raises(TaxonomyError) as caught:
        load_taxonomy(bad)
    assert str(caught.value).startswith(f"{bad}: cause 'billing_error' names unknown department")


def test_default_taxonomy_is_the_packaged_file(taxonomy: Taxonomy) -> None:
    packaged = Path(__file__).parents[2] / "schemas" / "tagging" / "taxonomy.yaml"
    assert load_taxonomy(packaged).cause_ids == taxonomy.cause_ids
