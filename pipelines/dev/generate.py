"""Seeded generator of realistic survey and agent-note events, for demos, tests and benchmarks.

Real feedback cannot be shipped with an open-source project, and hand-written fixtures
are too uniform to exercise a text pipeline: every customer in them says "the app
crashed" the same way. This module builds interactions the way a contact centre sees
them (a channel, an agent and team, a customer, a root cause or none, an agent note
and maybe a survey), writes each text from interchangeable parts in several tones,
and mixes in what production streams contain: events out of order, re-sent
duplicates, malformed messages, personal data that must be redacted and, as during
any contract migration, surveys on two schema versions at once.

Everything is a pure function of (n, seed, start, rates), so a failing benchmark or
acceptance test can be reproduced exactly. Publishing to Pub/Sub is done elsewhere.
"""

from __future__ import annotations

import base64
import bisect
import dataclasses
import itertools
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from voc.pipelines.topology import SURVEYS_TOPIC, TOPIC_FOR_EVENT_TYPE
from voc.schemas.contracts import contract_file_name, contracts_folder

__all__ = [
    "DEFAULT_START",
    "NO_CAUSE",
    "GeneratedMessage",
    "GenerationReport",
    "generate_events",
    "read_jsonl",
    "write_jsonl",
]

# The contract version of agent notes and of most surveys.
SCHEMA_VERSION = "1"
# Some publishers already send survey v2 (schemas/events/survey.v2.json), which adds
# product_area; the rest are still on v1, as they would be mid-migration.
SURVEY_V2 = "2"
SURVEY_V2_RATE = 0.3

# Fixed so that output depends only on the arguments, never on the clock.
DEFAULT_START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
# Interactions start within this window after `start`: long enough for windowed
# aggregations to see several windows, short enough to look like one busy shift.
SPAN_SECONDS = 4 * 3600

# Key in GenerationReport.causes for interactions planted without any root cause
# (happy customers). The matcher reports such texts as "unclassified".
NO_CAUSE = "none"

# Primary root-cause mix, loosely shaped like a consumer-electronics support queue:
# defects, billing and delivery dominate, sales and knowledge problems are rarer.
PRIMARY_WEIGHTS: dict[str, int] = {
    "product_defect": 14,
    "missing_feature": 5,
    "performance": 6,
    "unclear_docs": 6,
    "marketing_overpromise": 5,
    "sales_mis_sold": 4,
    "billing_error": 11,
    "refund_delay": 8,
    "long_hold": 9,
    "transfers": 6,
    "rigid_policy": 6,
    "delivery_delay": 10,
    "damaged_item": 5,
    "account_access": 7,
    "agent_knowledge": 4,
    "repeat_contact": 5,
}
# Second causes are mostly operational: a billing error that also meant a long hold.
SECONDARY_WEIGHTS: dict[str, int] = {
    "long_hold": 25,
    "repeat_contact": 20,
    "transfers": 15,
    "agent_knowledge": 10,
    "rigid_policy": 8,
    "billing_error": 5,
    "refund_delay": 5,
    "unclear_docs": 4,
    "product_defect": 4,
    "delivery_delay": 4,
}
NO_CAUSE_RATE = 0.08
SECONDARY_RATE = 0.25
NOTE_RATE = 0.95
SURVEY_RATE = 0.80
PII_RATE = 0.03
# How often a survey comment of an unhappy customer names the cause at all; the rest
# say "Not great." or leave the box empty, as real respondents do.
COMMENT_EXPRESSES_PRIMARY = 0.88
COMMENT_EXPRESSES_SECONDARY = 0.5
NOTE_EXPRESSES_SECONDARY = 0.6
# Agents often do not write down a long hold or a transfer chain: it is in the
# telephony numbers (hold_seconds, transfers) the note carries anyway.
NOTE_SIGNAL_ONLY_RATE = 0.3
SIGNAL_CAUSES = frozenset({"long_hold", "transfers"})

# survey v2's product_area, as the survey tool would fill it for the primary cause:
# the part of the product the contact was about. Contacts whose problem was the
# contact itself (holds, transfers, call-backs) are about customer_support. Happy
# customers have no planted cause, so their v2 surveys leave it out ("when known").
PRODUCT_AREAS: dict[str, tuple[str, ...]] = {
    "product_defect": ("mobile_app", "smart_home_devices"),
    "missing_feature": ("mobile_app", "web_dashboard"),
    "performance": ("mobile_app", "web_dashboard", "home_network"),
    "unclear_docs": ("help_centre", "device_setup"),
    "marketing_overpromise": ("plans_and_offers",),
    "sales_mis_sold": ("plans_and_offers",),
    "billing_error": ("billing_portal",),
    "refund_delay": ("returns_and_refunds",),
    "long_hold": ("customer_support",),
    "transfers": ("customer_support",),
    "rigid_policy": ("returns_and_refunds", "warranty"),
    "delivery_delay": ("orders_and_delivery",),
    "damaged_item": ("orders_and_delivery", "returns_and_refunds"),
    "account_access": ("account_and_login",),
    "agent_knowledge": ("customer_support",),
    "repeat_contact": ("customer_support",),
}

# --------------------------------------------------------------------------- text parts
# Placeholders are filled per interaction (see _FILLERS), so the same product or
# amount appears in the customer's comment and the agent's note.

CUSTOMER_PHRASES: dict[str, tuple[str, ...]] = {
    "product_defect": (
        "The {product} keeps crashing every time I open it.",
        "My {product} stopped working after the {version} update.",
        "The app froze on the payment screen three times today.",
        "Since the firmware update my {product} is completely broken.",
        "I keep getting an error message when I try to save anything.",
        "The {product} won't turn on at all, just a blinking light.",
        "There's a bug where my settings reset every night.",
        "The {product} randomly disconnects and I have to restart it.",
        "It has been glitchy since day one, the screen flickers constantly.",
        "Clearly a defective unit, it shuts itself off after ten minutes.",
    ),
    "missing_feature": (
        "There's no way to export my data to CSV, which is a basic thing.",
        "The app doesn't support {feature}, which every competitor has.",
        "Please add {feature}. It would make my life much easier.",
        "It would be great if the app had {feature}.",
        "Really missing a basic feature like {feature}.",
        "I wish the {product} could {capability}.",
        "That feature is missing from the {plan}.",
        "No option to {capability} in the settings, which seems like an obvious gap.",
        "Feature request: let me {capability}.",
        "Your app can't export reports, so I'm copying everything by hand.",
    ),
    "performance": (
        "The app is painfully slow, every page takes forever to load.",
        "Your website is so slow I gave up trying to check out.",
        "The {product} lags constantly, it's basically unusable.",
        "Uploads keep timing out halfway through.",
        "Since the update the {product} drains the battery in a few hours.",
        "The dashboard takes ages to load, sometimes a full minute.",
        "Sluggish app, the spinning wheel just sits there.",
        "My wifi has been really slow since last week's change.",
        "Search results take 20 seconds to load, which is ridiculous.",
        "Video keeps buffering every few seconds.",
    ),
    "unclear_docs": (
        "The setup guide is really confusing and skips a step.",
        "Followed the instructions in the manual exactly and they are just wrong.",
        "The help article on resetting the {product} is out of date.",
        "Your documentation doesn't explain how to pair a second device.",
        "The quick start leaflet is vague and the diagrams don't match.",
        "I couldn't work out how to set up the {product} from the booklet.",
        "The FAQ contradicts what the app actually shows.",
        "The online guide is for an older version, nothing matches the screens.",
        "Instructions were so unclear I wired it up wrong.",
    ),
    "marketing_overpromise": (
        "The ad said unlimited data but I get throttled after 20GB.",
        "Your website claims 12 hour battery life, I get maybe 5.",
        "Not as advertised at all, the picture quality is nothing like the commercial.",
        "The promo email promised 50% off and there was nothing at checkout.",
        "Marketing made it sound like it works with everything. It doesn't.",
        "Misleading advertising, the so-called waterproof watch died after one swim.",
        "Your Instagram ads show it doing things it simply can't do.",
        "The box says it works in any room and it clearly doesn't.",
        "Feels like a bait and switch: the advertised price was {amount}.",
    ),
    "sales_mis_sold": (
        "The salesperson told me the {plan} included international calls. It doesn't.",
        "I was mis-sold a contract I didn't need.",
        "Your sales rep promised I could cancel any time, now there's a 24 month contract.",
        "The guy in the store sold me the wrong plan for my usage.",
        "I was pushed into upgrading to the {plan} that I never wanted.",
        "When I signed up I was told there were no setup fees.",
        "Nobody mentioned the early termination fee when I joined.",
        "Your account manager assured us the bundle covered all three sites.",
        "I got upsold to a premium tier I can't use.",
    ),
    "billing_error": (
        "I was charged twice for the same order this month.",
        "You billed me {amount} instead of {amount2}.",
        "There's a mystery charge of {amount} on my statement.",
        "I cancelled in March and I'm still being charged every month.",
        "My invoice is wrong again, it shows two lines for one device.",
        "The discount I was promised was never applied to my bill.",
        "Got overcharged by {amount} on my last bill.",
        "Double charge on my card, please fix it.",
        "I've been billed for a month after I cancelled.",
    ),
    "refund_delay": (
        "Still waiting for my refund after three weeks.",
        "Where is my refund? It's been over a month.",
        "My refund still hasn't arrived even though you confirmed it on {date}.",
        "I returned the {product} weeks ago and haven't received my money back.",
        "You promised a refund within 5 days, it's now been 3 weeks.",
        "The refund is still pending on your side apparently.",
        "I've never been refunded for the cancelled order.",
        "Chasing my refund of {amount} yet again.",
    ),
    "long_hold": (
        "I was on hold for {minutes} minutes before anyone answered.",
        "Waited {minutes} minutes in the queue just to ask a simple question.",
        "The hold music nearly drove me mad, {minutes} minutes of it.",
        "It took forever to get through to a human.",
        "Ridiculous wait times, {minutes} minutes on the phone before I spoke to anyone.",
        "Sat on hold for ages.",
        "Couldn't get through for most of the morning.",
        "Your phone queue is a joke, I was waiting {minutes} minutes.",
    ),
    "transfers": (
        "I got transferred {transfers} times and had to explain everything each time.",
        "Passed around between departments for most of the call.",
        "Spoke to {transfers_word} different people before someone could help.",
        "Every agent transferred me to someone else.",
        "I had to repeat myself to every single person.",
        "Bounced between billing and tech support like a ping pong ball.",
        "Got sent to the wrong department twice.",
        "Kept being transferred and nobody owned the problem.",
    ),
    "rigid_policy": (
        "I was one day outside the return window and you wouldn't make an exception.",
        "Your refund policy is ridiculous.",
        "They said rules are rules and refused to replace it.",
        "Apparently it's against policy to exchange a charger after 30 days.",
        "Told it's non-refundable even though I never used it.",
        "The agent said her hands were tied.",
        "My warranty claim was rejected because it's a few days out of warranty.",
        "Silly policy that you can't exchange opened items.",
        "They refused a refund because I didn't have the original box.",
    ),
    "delivery_delay": (
        "My order still hasn't arrived, it was due last {weekday}.",
        "Tracking hasn't updated in five days.",
        "The parcel is {days} days late and nobody can tell me where it is.",
        "Where is my package? It has said out for delivery since {weekday}.",
        "The courier never showed up even though I stayed home all day.",
        "Delivery date came and went with no update.",
        "Tracking says delivered but there's nothing here.",
        "Still waiting for my replacement {product}, two weeks now.",
        "{carrier} lost my parcel and you won't do anything.",
    ),
    "damaged_item": (
        "The {product} arrived with a cracked screen.",
        "Box was completely crushed and the contents were ruined.",
        "You sent me the wrong size.",
        "It came broken, one of the legs snapped off.",
        "Missing parts: no screws or power adapter in the box.",
        "Received the wrong colour, I ordered black.",
        "Opened the package to find a shattered screen.",
        "Dead on arrival, it won't even power up.",
    ),
    "account_access": (
        "I've been locked out of my account for two days.",
        "Can't log in, the password reset email never arrives.",
        "The verification code never comes through.",
        "My account was suspended for no reason and I can't use anything.",
        "Two-factor texts go to my old number so I can't sign in.",
        "Stuck in a login loop on the app.",
        "I forgot my password and the recovery process is a nightmare.",
        "Someone hacked my account and changed the email.",
    ),
    "agent_knowledge": (
        "The first agent didn't know anything about my plan.",
        "I got conflicting answers from two different people.",
        "The rep gave me wrong information and it cost me {amount}.",
        "Felt like they were reading from a script and not listening.",
        "Your staff are clearly not trained on the new {product}.",
        "The person on chat had no idea how {feature} works.",
        "Each agent gave me different answers.",
        "Completely clueless support, I had to explain my own account to them.",
    ),
    "repeat_contact": (
        "This is the third time I've called about the same problem.",
        "I've contacted you {contacts_word} times and it's still not fixed.",
        "Nobody called me back like they promised.",
        "I keep having to chase you for updates.",
        "Second call this week about this.",
        "Was promised a callback that never happened.",
        "I've been emailing support for weeks with no reply.",
        "Same issue again as last month, I'm tired of this.",
    ),
}

NOTE_PHRASES: dict[str, tuple[str, ...]] = {
    "product_defect": (
        "cust reports {product} crashing on launch since v{version}; cleared cache and "
        "reinstalled, issue persists. raised bug {ticket}.",
        "{product} won't boot. hard reset tried, no change. RMA offered.",
        "known issue: app freezes on checkout on android; logged against {ticket}.",
        "Cust getting error {code} when syncing. Escalated to T2 as possible defect.",
        "device keeps rebooting after firmware {version}. collected logs, sent to eng.",
        "Reported bug: notifications missing after update. Workaround given (toggle perms).",
        "Malfunction: {product} randomly shuts off. Replacement unit approved.",
        "App still not loading for cust after reinstall - looks like defect in {version}.",
    ),
    "missing_feature": (
        "Cust requesting {feature}; logged feature request {ticket}.",
        "Feature request raised: {feature}. Advised on roadmap, no ETA.",
        "Cust wants to {capability}, product doesn't support this. Suggested workaround.",
        "No option to {capability} in current version - explained limitation, logged feedback.",
        "Missing functionality: {feature}. Cust considering competitor.",
        "Option not available on {plan}: {feature}. Passed to product feedback.",
        "cust asked us to add {feature} - not yet supported, +1 on existing request.",
    ),
    "performance": (
        "cust reports slow load times on dashboard (~30s). HAR file collected, sent to eng.",
        "App lagging on older devices after {version}. Known perf issue, ticket {ticket}.",
        "API timeouts reported during peak hours. Escalated.",
        "Battery drain after update, approx 40%/hr. Advised disabling background sync.",
        "Website sluggish at checkout for cust; cleared cookies, still slow.",
        "Sync taking forever to load data on {product}; performance issue logged.",
    ),
    "unclear_docs": (
        "Cust followed KB article {kb} which is outdated (old UI). Walked through correct "
        "steps. Docs need updating.",
        "Setup guide missing step for {product} pairing; talked cust through it. Flagged docs gap.",
        "Confusing instructions re {topic}; cust misread step 4. Explained.",
        "Manual says press button 5s, actually 10s - manual incorrect. Reported to content.",
        "help centre page on {topic} unclear, cust confused. Sent direct steps.",
        "Docs don't mention {feature} requirement; cust stuck at step 3.",
    ),
    "marketing_overpromise": (
        "Cust cites ad claim of 12h battery; actual ~6h. Explained real-world usage. "
        "Feedback to marketing.",
        "Cust says campaign email promised free install; not part of offer. Goodwill given.",
        "Product page claims compatibility with {device} - incorrect. Raised with marketing.",
        "Cust feels misled by advert speed claims; explained up-to wording.",
        "Not as described on website per cust (colour/size). Logged marketing feedback.",
        "Overpromised in TV campaign per cust - expected {feature} included.",
    ),
    "sales_mis_sold": (
        "Cust states sales rep promised free upgrade at 12 months; not on account. "
        "Referred to sales team.",
        "Possible mis-sale: cust on {plan} but usage fits Basic. Downgrade processed.",
        "Store staff told cust no contract - actually 24m. Escalated to retail sales.",
        "Wrong plan sold in store; moved cust to correct tariff, backdated.",
        "cust says upsold on phone, didn't agree to add-ons.",
        "Salesperson assured cust device was unlocked; it isn't. Sales complaint raised.",
    ),
    "billing_error": (
        "Duplicate charge {amount} on {date}; confirmed in billing system, reversal raised.",
        "Cust overbilled due to incorrect proration on plan change. Credit {amount} applied.",
        "Billing error: charged for {plan} after cancellation. Refund of {amount} processed.",
        "Promo discount not applied on last 2 invoices. Adjusted.",
        "Cust charged 2x for order {order}. Raised with payments team.",
        "Invoice showed wrong amount (VAT added twice). Corrected and reissued.",
    ),
    "refund_delay": (
        "Refund of {amount} approved {days} days ago not yet received by cust. Chased finance.",
        "Cust chasing refund for RMA {rma}; still pending with warehouse.",
        "refund stuck in processing - escalated to payments. ETA 3-5 days.",
        "Refund delayed due to bank issue; advised cust, reference {ticket}.",
        "Cust waiting 3 wks for refund. Escalated, priority flag.",
        "Refund overdue (>14 days). Raised case with finance team.",
    ),
    "long_hold": (
        "Cust upset re {minutes} min hold before connect. Apologised.",
        "Long wait in queue ({minutes}m) - cust frustrated.",
        "Queue backlog this morning; cust waited {minutes} mins.",
        "Cust complained about hold time.",
        "High hold time ({minutes}m) due to staffing; apologised.",
        "cust angry about long hold, said {minutes} minutes.",
    ),
    "transfers": (
        "Cust transferred {transfers}x before reaching us. Resolved.",
        "misrouted from sales queue; cust had already been transferred twice.",
        "{transfers} transfers before landing with T2 - cust frustrated at repeating issue.",
        "Cust bounced between billing and tech; took ownership.",
        "Wrong queue from IVR, xferred to correct team.",
        "Multiple transfers complained about; warm handover done.",
    ),
    "rigid_policy": (
        "Cust outside 30-day return window; exception request declined by TL.",
        "Per policy no refunds on opened software. Cust unhappy.",
        "Requested fee waiver - not permitted under policy. Explained T&Cs.",
        "Warranty expired by 2 weeks, unable to offer repair per policy. Cust escalating.",
        "Restocking fee applied per returns policy; cust disputes.",
        "Could not extend trial - policy doesn't allow. Offered discount instead.",
    ),
    "delivery_delay": (
        "WISMO - order {order} stuck at depot {days} days. Carrier chased.",
        "Parcel lost in transit per {carrier}; reshipped with express.",
        "Delivery delayed due to carrier backlog; new ETA {date}.",
        "Order not yet dispatched, warehouse short on stock. Cust informed.",
        "Tracking shows no movement since {date}. Investigation opened with {carrier}.",
        "Marked as delivered but cust has nothing; claim raised with courier.",
    ),
    "damaged_item": (
        "Item DOA, courier damage evident on box. Replacement sent.",
        "Wrong item shipped (black vs white). Return label issued.",
        "Cust received {product} with dented casing - transit damage. Replacement raised.",
        "Parts missing from box (screws, cable). Sending missing parts.",
        "Packaging soaked, unit damaged in transit. Refund offered.",
        "Incorrect model delivered; swap arranged.",
    ),
    "account_access": (
        "Cust locked out after 5 failed login attempts. ID&V passed, account unlocked.",
        "PW reset link not arriving - whitelisted sender, resent. Working now.",
        "MFA device lost; reset 2FA after verification.",
        "Account suspended in error by fraud rules. Reinstated.",
        "Cust unable to sign in on web; cleared cookies, reset password. Resolved.",
        "Suspected compromised account; secured, forced password change.",
    ),
    "agent_knowledge": (
        "Previous agent gave incorrect info re cancellation terms; corrected and apologised.",
        "Cust was misadvised on last contact about {topic}. Coaching opportunity flagged.",
        "Conflicting advice given by store vs phone. Clarified.",
        "Knowledge gap on {feature} - agent needs training. Raised with TL.",
        "cust says earlier rep couldn't explain charges. Walked through bill.",
        "Wrong info given on chat re {topic}; cust acted on it. Goodwill offered.",
    ),
    "repeat_contact": (
        "Repeat caller - 3rd contact re same issue. Took ownership, callback booked.",
        "Cust contacted x4 about {topic}; previous tickets not resolved.",
        "Promised callback not made by prev agent. Apologised.",
        "Follow-up on existing case {ticket}. Cust chasing again.",
        "Second contact today; earlier chat dropped without resolution.",
        "Cust has called 3 times this week re {topic}.",
    ),
}

HAPPY_COMMENTS: tuple[str, ...] = (
    "Great service, {agent} sorted it out in minutes.",
    "Quick and friendly, thank you!",
    "{agent} was brilliant and really patient with me.",
    "Very helpful, explained everything clearly.",
    "Easy chat, problem solved first time.",
    "Really pleased with how this was handled.",
    "Top marks to {agent}, super helpful.",
    "Fast response and my question was answered.",
    "All good, thanks.",
    "Thanks {agent}, all sorted!",
    "Lovely experience, everything is working again now.",
)
# Said by unhappy customers who do not name the cause; these must match nothing.
VAGUE_COMMENTS: tuple[str, ...] = (
    "Not great.",
    "It was ok I suppose.",
    "Meh.",
    "Could be better.",
    "Disappointing.",
    "Not impressed.",
    "Fine.",
)
HAPPY_NOTES: tuple[str, ...] = (
    "Cust asked how to {how}. Walked through steps, cust happy.",
    "General enquiry re {plan} pricing. Info provided.",
    "Cust updated address and contact details. No issues.",
    "Query re upgrade options; explained {plan} benefits. Cust will consider.",
    "Cust wanted to add a second user. Done.",
    "Quick question about {feature}; answered. Closed.",
)

# Harmless context that uses the words causes are made of (order, bill, policy,
# update, refund...) without expressing one: the matcher must stay quiet on these.
CUSTOMER_ASIDES: tuple[str, ...] = (
    "I ordered it as a birthday present.",
    "The delivery driver was friendly.",
    "My bill is usually fine.",
    "I've been a customer for six years.",
    "I updated the app yesterday.",
    "I read your privacy policy before signing up.",
    "I use the {product} every day for work.",
    "I paid by card last time.",
    "The app works fine on my tablet.",
    "I got a text saying my order was confirmed.",
    "The manual is clear enough.",
    "My last refund came through quickly.",
    "I was on the phone with my sister at the time.",
    "Your website looks much better these days.",
)
NOTE_ASIDES: tuple[str, ...] = (
    "Verified account holder.",
    "Checked order history, other orders fine.",
    "Billing checked, all normal.",
    "Cust on {plan} since 2021.",
    "Device on latest firmware.",
    "Updated contact preferences.",
    "Refund policy explained for future reference.",
    "Delivery address confirmed.",
)
ASIDE_RATE = 0.3

OPENERS: dict[str, tuple[str, ...]] = {
    "angry": (
        "Honestly furious.",
        "Unbelievable.",
        "Absolutely fed up.",
        "Not happy at all.",
        "What a joke.",
        "Terrible experience.",
        "Ugh.",
        "I am done with this.",
        "",
    ),
    "neutral": ("Hi,", "Hello.", "", "", "Feedback:", "To be honest,", "Just so you know,"),
    "positive": (
        "Overall fine, but",
        "The agent was lovely, but",
        "Not a big deal, but",
        "Mostly happy, though",
        "Thanks for the help.",
        "",
    ),
}
CLOSERS: dict[str, tuple[str, ...]] = {
    "angry": (
        "Sort it out.",
        "Absolutely unacceptable.",
        "I'm seriously thinking of leaving.",
        "Worst customer experience I've had.",
        "Do better.",
        "Not good enough!!",
        "Fix this now.",
    ),
    "neutral": (
        "Please look into it.",
        "Hope this gets sorted.",
        "Would appreciate an update.",
        "Thanks.",
        "",
        "Let me know.",
    ),
    "positive": (
        "{agent} was great though.",
        "The person I spoke to was really kind about it.",
        "Otherwise I love the {product}.",
        "Thanks for trying anyway.",
        "{agent} sorted it in the end, so thank you.",
    ),
}
NOTE_OPENERS: dict[str, tuple[str, ...]] = {
    "phone": ("", "", "Inbound call.", "Callback:"),
    "chat": ("", "", "Chat:", "Live chat."),
    "email": ("", "", "Email:", "Email thread."),
    "social": ("", "Social DM:", "Twitter DM."),
    "in_app": ("", "In-app chat:"),
}
NOTE_CLOSERS: tuple[str, ...] = (
    "",
    "",
    "Cust satisfied.",
    "Closed.",
    "Resolved.",
    "No further action.",
    "Escalated to T2.",
    "Awaiting cust reply.",
    "Case notes updated.",
)
CUSTOMER_PII: tuple[str, ...] = (
    "Call me on {phone}.",
    "My email is {email} if you need it.",
    "You can reach me at {phone} after 5.",
    "The payment was on card {card}.",
    "Contact me: {email}",
)
NOTE_PII: tuple[str, ...] = (
    "cust read card {card} over phone",
    "cb number {phone}",
    "cust email {email} verified",
    "alt contact {phone}",
    "cust gave card no. {card} - advised never to share card details",
)

PRODUCTS = (
    "Aero router",
    "Pulse watch",
    "Lumen smart bulb",
    "Orbit speaker",
    "Home Hub",
    "Vela camera",
    "companion app",
    "Nimbus tablet",
)
PLANS = ("Basic plan", "Plus plan", "Family plan", "Pro plan", "Unlimited plan")
FEATURES = (
    "dark mode",
    "calendar sync",
    "multi-user access",
    "offline mode",
    "scheduled reports",
    "a home screen widget",
    "bulk editing",
)
CAPABILITIES = (
    "schedule reports",
    "share access with family members",
    "set quiet hours",
    "turn off the chime",
    "sync with Google Calendar",
    "group devices by room",
)
TOPICS = ("Wi-Fi setup", "pairing", "firmware updates", "family sharing", "data export")
HOW_TOS = (
    "change the notification sound",
    "add a second user",
    "rename a device",
    "set up guest Wi-Fi",
)
DEVICES = ("Android 12", "iOS 17", "older Chromebooks", "Windows 10")
CARRIERS = ("DPD", "UPS", "Evri", "Royal Mail", "the courier")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
NUMBER_WORDS = ("two", "three", "four", "five", "six")
AGENT_NAMES = (
    "Priya",
    "Tom",
    "Sam",
    "Aisha",
    "Marek",
    "Jo",
    "Lucía",
    "Kwame",
    "Hannah",
    "Dev",
    "Mei",
    "Oliver",
)
EMAIL_NAMES = ("jane.doe", "m.smith", "alex.k", "chris_b", "sara.lee", "dan.r")
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example.net")
PHONES = ("+44 20 7946 0958", "(415) 555-0132", "+1 415 555 0199", "020 7946 0321")
CARDS = ("4111 1111 1111 1111", "5555 5555 5555 4444", "4000-0566-5566-5556", "4111111111111111")

# Channel -> teams answering it. Long holds and transfers only happen live.
TEAMS_BY_CHANNEL: dict[str, tuple[str, ...]] = {
    "phone": ("care-phone-1", "care-phone-2", "tech-phone"),
    "chat": ("care-chat", "tech-chat"),
    "email": ("care-email", "billing-desk"),
    "social": ("social-care",),
    "in_app": ("in-app-support",),
}
CHANNEL_WEIGHTS: dict[str, int] = {"phone": 40, "chat": 25, "email": 20, "social": 5, "in_app": 10}
LIVE_CHANNELS = ("phone", "chat")
LANGUAGES = ("en", "en", "en", "en-GB", "en-US")


def _required_fields(event_type: str) -> tuple[str, ...]:
    """The contract's own list, so a field a contract makes required is also damaged."""
    schema_file = contracts_folder() / contract_file_name(event_type, 1)
    return tuple(json.loads(schema_file.read_text(encoding="utf-8"))["required"])


SURVEY_REQUIRED = _required_fields("survey")
NOTE_REQUIRED = _required_fields("agent_note")
# Values that break one field's type or range, per event type, for those two defects.
_FIELD_DAMAGE: dict[str, dict[str, tuple[tuple[str, Any], ...]]] = {
    "wrong_type": {
        "survey": (("csat", "five"), ("nps", "10"), ("resolved", "yes"), ("ces", 3.5)),
        "agent_note": (("hold_seconds", "300"), ("transfers", 1.5), ("note", None)),
    },
    "out_of_range": {
        "survey": (("csat", 6), ("csat", 0), ("nps", 11), ("nps", -1), ("ces", 8), ("ces", 0)),
        "agent_note": (("hold_seconds", -30), ("transfers", 101), ("handle_seconds", 90000)),
    },
}
MALFORMED_DEFECTS = (
    "invalid_json",
    "truncated_json",
    "invalid_utf8",
    "missing_field",
    "wrong_type",
    "out_of_range",
    "unknown_event_type",
    "missing_event_type",
    "unknown_schema_version",
)


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class GeneratedMessage:
    """One message as it would be published: topic, raw bytes and attributes, plus truth.

    kind, event_type, event_id and cause_ids are the generator's ground truth, kept
    beside the message so tests can check what the pipeline made of it. cause_ids
    are the causes this message itself carries (in its text, or in a note's
    hold/transfer numbers), primary first; a survey whose customer never names the
    cause carries none. For malformed messages event_type is the attribute as sent
    (possibly unknown or None) and event_id the id inside the payload when one
    survives the damage, else None.
    """

    topic: str
    data: bytes
    attributes: dict[str, str]
    kind: str  # "valid" | "duplicate" | "malformed"
    event_type: str | None
    event_id: str | None
    cause_ids: tuple[str, ...]


@dataclass
class GenerationReport:
    """Exact counts of what generate_events produced, for acceptance tests to compare.

    Valid unique surveys should land in the surveys table, valid unique notes in
    agent_notes, malformed messages in dead_letters, and duplicates nowhere.
    causes maps each planted primary cause (NO_CAUSE for happy customers) to its
    number of interactions; pii_texts counts valid messages with planted personal
    data, which the pipeline must redact.
    """

    messages: int = 0
    valid_surveys: int = 0
    valid_notes: int = 0
    duplicates: int = 0
    malformed: int = 0
    interactions: int = 0
    causes: dict[str, int] = field(default_factory=dict)
    pii_texts: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, causes sorted by name so output diffs cleanly."""
        result = asdict(self)
        result["causes"] = dict(sorted(self.causes.items()))
        return result


def generate_events(
    n: int,
    seed: int = 7,
    start: datetime | None = None,
    malformed_rate: float = 0.01,
    duplicate_rate: float = 0.01,
) -> tuple[list[GeneratedMessage], GenerationReport]:
    """Generate exactly n messages in arrival order, and a report of what they contain.

    round(n * malformed_rate) are malformed and round(n * duplicate_rate) are exact
    re-sends of earlier valid messages; the rest are valid surveys and agent notes
    of generated interactions. The same arguments always give the same bytes.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    for name, rate in (("malformed_rate", malformed_rate), ("duplicate_rate", duplicate_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {rate!r}")
    if malformed_rate + duplicate_rate > 1.0:
        raise ValueError("malformed_rate + duplicate_rate must not exceed 1")
    start = start or DEFAULT_START
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)

    n_malformed = round(n * malformed_rate)
    n_duplicates = round(n * duplicate_rate)
    n_valid = n - n_malformed - n_duplicates
    if n_valid == 0 and n_duplicates:
        n_duplicates, n_valid = 0, n_duplicates  # nothing to re-send

    world = _World(random.Random(seed), start.timestamp(), n)
    report = GenerationReport()
    # (arrival key, sequence number, message); sorting by key gives arrival order.
    stream: list[tuple[float, int, GeneratedMessage]] = []
    while len(stream) < n_valid:
        interaction = world.interaction()
        messages = interaction.messages
        if len(stream) + len(messages) > n_valid:
            messages = messages[: n_valid - len(stream)]
        report.interactions += 1
        report.causes[interaction.primary] = report.causes.get(interaction.primary, 0) + 1
        for key, message, has_pii in messages:
            stream.append((key, len(stream), message))
            if message.topic == SURVEYS_TOPIC:
                report.valid_surveys += 1
            else:
                report.valid_notes += 1
            report.pii_texts += has_pii

    rng = world.rng
    originals = rng.sample(range(len(stream)), min(n_duplicates, len(stream)))
    sequence = len(stream)
    extra: list[tuple[float, int, GeneratedMessage]] = []
    for index in originals:
        key, _, original = stream[index]
        # Re-sent after an ack deadline passed: seconds to minutes later.
        resend = dataclasses.replace(
            original, kind="duplicate", attributes=dict(original.attributes)
        )
        extra.append((key + rng.uniform(5.0, 600.0), sequence, resend))
        sequence += 1
    report.duplicates = len(extra)

    low = min((key for key, _, _ in stream), default=world.start)
    high = max((key for key, _, _ in stream), default=world.start + SPAN_SECONDS)
    defects = list(MALFORMED_DEFECTS)
    for number in range(n_malformed):
        if number % len(defects) == 0:
            rng.shuffle(defects)
        message = world.malformed(defects[number % len(defects)])
        extra.append((rng.uniform(low, high), sequence, message))
        sequence += 1
    report.malformed = n_malformed

    stream.extend(extra)
    stream.sort(key=lambda item: (item[0], item[1]))
    messages_out = [message for _, _, message in stream]
    report.messages = len(messages_out)
    report.causes = dict(sorted(report.causes.items()))
    return messages_out, report


def write_jsonl(messages: Iterable[GeneratedMessage], path: str | Path | TextIO) -> int:
    """Write messages one JSON object per line to a path or open text file; returns the count.

    data is base64 because malformed payloads may not be valid UTF-8, and a file a
    publisher can replay makes load tests repeatable without regenerating. An open
    file (sys.stdout, say) is written to and left open.
    """
    if isinstance(path, str | Path):
        with Path(path).open("w", encoding="utf-8") as out:
            return write_jsonl(messages, out)
    count = 0
    for message in messages:
        record = {
            "topic": message.topic,
            "attributes": message.attributes,
            "data_b64": base64.b64encode(message.data).decode("ascii"),
            "kind": message.kind,
            "event_type": message.event_type,
            "event_id": message.event_id,
            "cause_ids": list(message.cause_ids),
        }
        path.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        path.write("\n")
        count += 1
    return count


def read_jsonl(path: str | Path | TextIO) -> list[GeneratedMessage]:
    """Read what write_jsonl wrote (a path or an open text file) back, byte for byte."""
    if isinstance(path, str | Path):
        with Path(path).open(encoding="utf-8") as lines:
            return read_jsonl(lines)
    name = getattr(path, "name", "<stream>")
    messages: list[GeneratedMessage] = []
    for number, line in enumerate(path, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            messages.append(
                GeneratedMessage(
                    topic=record["topic"],
                    data=base64.b64decode(record["data_b64"], validate=True),
                    attributes={str(k): str(v) for k, v in record["attributes"].items()},
                    kind=record["kind"],
                    event_type=record.get("event_type"),
                    event_id=record.get("event_id"),
                    cause_ids=tuple(record.get("cause_ids") or ()),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{name}:{number}: not a generated message: {error}") from error
    return messages


# --------------------------------------------------------------------------- internals


@dataclass
class _Interaction:
    primary: str
    # (arrival key, message, carries planted PII)
    messages: list[tuple[float, GeneratedMessage, bool]]


class _Context(dict[str, str]):
    """Placeholder values for one interaction, drawn only when a template asks.

    Lazy because most templates use two or three of the many placeholders, and
    drawing all of them for every interaction would double the generation time.
    """

    def __init__(self, rng: random.Random, fixed: dict[str, str]) -> None:
        super().__init__(fixed)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = _FILLERS[key](self.rng)
        self[key] = value
        return value


def _amount(rng: random.Random) -> str:
    currency = rng.choice(("£", "$", "€"))
    return f"{currency}{rng.randint(5, 250)}.{rng.choice(('00', '99', '49', '50'))}"


def _email(rng: random.Random) -> str:
    return f"{rng.choice(EMAIL_NAMES)}{rng.randint(1, 99)}@{rng.choice(EMAIL_DOMAINS)}"


_FILLERS: dict[str, Callable[[random.Random], str]] = {
    "product": lambda rng: rng.choice(PRODUCTS),
    "plan": lambda rng: rng.choice(PLANS),
    "feature": lambda rng: rng.choice(FEATURES),
    "capability": lambda rng: rng.choice(CAPABILITIES),
    "topic": lambda rng: rng.choice(TOPICS),
    "how": lambda rng: rng.choice(HOW_TOS),
    "device": lambda rng: rng.choice(DEVICES),
    "carrier": lambda rng: rng.choice(CARRIERS),
    "weekday": lambda rng: rng.choice(WEEKDAYS),
    "amount": _amount,
    "amount2": _amount,
    "order": lambda rng: f"#{rng.choice('ABCDEFGH')}-{rng.randint(100000, 999999)}",
    "version": lambda rng: f"{rng.randint(2, 6)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}",
    "code": lambda rng: f"E{rng.randint(100, 999)}",
    "ticket": lambda rng: f"JIRA-{rng.randint(1000, 9999)}",
    "kb": lambda rng: f"KB-{rng.randint(100, 4999)}",
    "rma": lambda rng: f"RMA{rng.randint(10000, 99999)}",
    "days": lambda rng: str(rng.randint(3, 12)),
    "date": lambda rng: f"{rng.randint(1, 28)} {rng.choice(('Dec', 'Jan'))}",
    "contacts_word": lambda rng: rng.choice(NUMBER_WORDS),
    "phone": lambda rng: rng.choice(PHONES),
    "email": _email,
    "card": lambda rng: rng.choice(CARDS),
}

SCORE_RANGES: dict[str, dict[str, tuple[int, int]]] = {
    # sentiment -> score -> inclusive range; effort (ces) is high when unhappy
    "angry": {"csat": (1, 2), "nps": (0, 4), "ces": (5, 7)},
    "neutral": {"csat": (2, 4), "nps": (3, 8), "ces": (3, 5)},
    "positive": {"csat": (3, 5), "nps": (6, 10), "ces": (2, 4)},
    "happy": {"csat": (4, 5), "nps": (8, 10), "ces": (1, 3)},
}
RESOLVED_RATE = {"angry": 0.25, "neutral": 0.55, "positive": 0.85, "happy": 0.97}
SENTIMENTS = ("angry", "neutral", "positive")
SENTIMENT_CUMULATIVE = (40, 80, 100)


class _World:
    """The generator's state: random source, clock, customers and agents."""

    def __init__(self, rng: random.Random, start: float, n: int) -> None:
        self.rng = rng
        self.start = start
        self.counter = 0
        self.customers: list[str] = []
        # More traffic, more staff; bounded so ids stay readable.
        self.agents_per_team = max(3, min(60, n // 2000))
        teams = [team for teams in TEAMS_BY_CHANNEL.values() for team in teams]
        self.team_numbers = {team: number for number, team in enumerate(teams)}
        self.primary_causes = list(PRIMARY_WEIGHTS)
        self.primary_cum = _cumulative(PRIMARY_WEIGHTS.values())
        self.secondary_causes = list(SECONDARY_WEIGHTS)
        self.secondary_cum = _cumulative(SECONDARY_WEIGHTS.values())
        self.channels = list(CHANNEL_WEIGHTS)
        self.channel_cum = _cumulative(CHANNEL_WEIGHTS.values())

    # ---------------------------------------------------------------- interactions

    def interaction(self) -> _Interaction:
        rng = self.rng
        self.counter += 1
        causes = self._causes()
        primary = causes[0] if causes else NO_CAUSE
        channel = self._channel(causes)
        team = rng.choice(TEAMS_BY_CHANNEL[channel])
        agent_number = rng.randrange(self.agents_per_team)
        agent_id = f"agt_{team.replace('-', '_')}_{agent_number:03d}"
        agent_name = AGENT_NAMES[(agent_number * 7 + self.team_numbers[team]) % len(AGENT_NAMES)]
        interaction_id = f"int_{rng.getrandbits(64):016x}"
        customer_id = self._customer("repeat_contact" in causes)

        hold = 0
        if "long_hold" in causes:
            hold = rng.randint(600, 3600)
        elif channel in LIVE_CHANNELS:
            hold = rng.randint(0, 90) if rng.random() < 0.7 else rng.randint(90, 420)
        transfers = rng.randint(2, 5) if "transfers" in causes else int(rng.random() < 0.15)
        handle = min(86400, rng.randint(120, 1500) + hold + 60 * transfers)
        began = self.start + rng.uniform(0, SPAN_SECONDS)
        ended = began + handle

        context = _Context(
            rng,
            {
                "agent": agent_name,
                "minutes": str(max(10, hold // 60)),
                "transfers": str(transfers),
                "transfers_word": NUMBER_WORDS[min(len(NUMBER_WORDS) - 1, max(0, transfers - 2))],
            },
        )
        messages: list[tuple[float, GeneratedMessage, bool]] = []
        has_note = rng.random() < NOTE_RATE
        has_survey = rng.random() < SURVEY_RATE
        if not has_note and not has_survey:
            has_note = True
        if has_note:
            # Most notes are written right after the contact; some at the end of a shift.
            delay = rng.uniform(20, 300) if rng.random() < 0.85 else rng.uniform(600, 5400)
            created = ended + delay
            text, cause_ids, pii = self._note_text(causes, channel, context)
            payload = {
                "event_id": self._uuid(),
                "interaction_id": interaction_id,
                "agent_id": agent_id,
                "team": team,
                "channel": channel,
                "created_at": _rfc3339(created),
                "handle_seconds": handle,
                "hold_seconds": hold,
                "transfers": transfers,
                "note": text,
            }
            messages.append((self._arrival(created), _valid(payload, cause_ids), pii))
        if has_survey:
            submitted = ended + min(3 * 3600, 60 + rng.expovariate(1 / 1200))
            sentiment = "happy" if not causes else _pick(rng, SENTIMENTS, SENTIMENT_CUMULATIVE)
            comment, cause_ids, pii = self._comment(causes, sentiment, context)
            payload = {
                "event_id": self._uuid(),
                "interaction_id": interaction_id,
                "customer_id": customer_id,
                "channel": channel,
                "submitted_at": _rfc3339(submitted),
            }
            ranges = SCORE_RANGES[sentiment]
            for score in ("csat", "nps", "ces"):
                roll = rng.random()
                if roll < 0.08:
                    continue  # question skipped: key absent
                payload[score] = None if roll < 0.12 else rng.randint(*ranges[score])
            payload["resolved"] = rng.random() < RESOLVED_RATE[sentiment]
            payload["comment"] = comment
            payload["language"] = rng.choice(LANGUAGES)
            version = _survey_version(payload, primary)
            messages.append((self._arrival(submitted), _valid(payload, cause_ids, version), pii))
        return _Interaction(primary, messages)

    def _causes(self) -> list[str]:
        rng = self.rng
        if rng.random() < NO_CAUSE_RATE:
            return []
        causes = [_pick(rng, self.primary_causes, self.primary_cum)]
        if rng.random() < SECONDARY_RATE:
            second = _pick(rng, self.secondary_causes, self.secondary_cum)
            if second != causes[0]:
                causes.append(second)
        return causes

    def _channel(self, causes: Sequence[str]) -> str:
        rng = self.rng
        if causes and causes[0] in SIGNAL_CAUSES:
            return "phone" if rng.random() < 0.8 else "chat"
        channel = _pick(rng, self.channels, self.channel_cum)
        if channel not in LIVE_CHANNELS and SIGNAL_CAUSES.intersection(causes):
            channel = "phone"
        return channel

    def _customer(self, repeat: bool) -> str:
        rng = self.rng
        if self.customers and rng.random() < (0.7 if repeat else 0.2):
            return rng.choice(self.customers)
        customer = f"cus_{rng.getrandbits(40):010x}"
        self.customers.append(customer)
        return customer

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _arrival(self, event_time: float) -> float:
        """Publish time: usually seconds after the event, occasionally minutes (late data)."""
        rng = self.rng
        if rng.random() < 0.03:
            return event_time + rng.uniform(60, 900)
        return event_time + rng.expovariate(1 / 4)

    # ---------------------------------------------------------------- texts

    def _comment(
        self, causes: Sequence[str], sentiment: str, context: _Context
    ) -> tuple[str, tuple[str, ...], bool]:
        rng = self.rng
        if not causes:
            if rng.random() < 0.15:
                return "", (), False
            text = rng.choice(HAPPY_COMMENTS).format_map(context)
            if rng.random() < ASIDE_RATE:
                text = f"{text} {rng.choice(CUSTOMER_ASIDES).format_map(context)}"
            text, pii = self._maybe_pii(text, CUSTOMER_PII, context)
            return _restyle(rng, text, customer=True), (), pii

        expressed: list[str] = []
        sentences: list[str] = []
        if rng.random() < COMMENT_EXPRESSES_PRIMARY:
            expressed.append(causes[0])
            sentences.append(rng.choice(CUSTOMER_PHRASES[causes[0]]).format_map(context))
        if len(causes) > 1 and rng.random() < COMMENT_EXPRESSES_SECONDARY:
            expressed.append(causes[1])
            sentences.append(rng.choice(CUSTOMER_PHRASES[causes[1]]).format_map(context))
        if not sentences:
            if rng.random() < 0.4:
                return "", (), False
            return rng.choice(VAGUE_COMMENTS), (), False

        opener = _typo(rng, rng.choice(OPENERS[sentiment]))
        closer = _typo(rng, rng.choice(CLOSERS[sentiment]).format_map(context))
        if sentiment == "angry" and opener and rng.random() < 0.2:
            opener = opener.upper()
        if rng.random() < ASIDE_RATE:
            sentences.insert(rng.randint(1, len(sentences)), rng.choice(CUSTOMER_ASIDES))
        body = " ".join(sentences).format_map(context)
        if opener.endswith((",", "but", "though")) and not body.startswith(("I ", "I'")):
            body = body[0].lower() + body[1:]
        text = " ".join(part for part in (opener, body, closer) if part)
        text, pii = self._maybe_pii(text, CUSTOMER_PII, context)
        return _restyle(rng, text, customer=True), tuple(expressed), pii

    def _note_text(
        self, causes: Sequence[str], channel: str, context: _Context
    ) -> tuple[str, tuple[str, ...], bool]:
        rng = self.rng
        if not causes:
            text = rng.choice(HAPPY_NOTES).format_map(context)
            if rng.random() < ASIDE_RATE:
                text = f"{text} {rng.choice(NOTE_ASIDES).format_map(context)}"
            text, pii = self._maybe_pii(text, NOTE_PII, context)
            return _restyle(rng, text, customer=False), (), pii
        sentences: list[str] = []
        carried: list[str] = []
        for position, cause in enumerate(causes):
            signal_only = cause in SIGNAL_CAUSES and rng.random() < NOTE_SIGNAL_ONLY_RATE
            written = not signal_only and (position == 0 or rng.random() < NOTE_EXPRESSES_SECONDARY)
            if written:
                sentences.append(rng.choice(NOTE_PHRASES[cause]).format_map(context))
            if written or cause in SIGNAL_CAUSES:
                carried.append(cause)
        if not sentences:
            sentences.append(rng.choice(HAPPY_NOTES).format_map(context))
        if rng.random() < ASIDE_RATE:
            sentences.append(rng.choice(NOTE_ASIDES).format_map(context))
        parts = [rng.choice(NOTE_OPENERS[channel]), *sentences, rng.choice(NOTE_CLOSERS)]
        text = " ".join(part for part in parts if part)
        text, pii = self._maybe_pii(text, NOTE_PII, context)
        return _restyle(rng, text, customer=False), tuple(carried), pii

    def _maybe_pii(
        self, text: str, templates: Sequence[str], context: _Context
    ) -> tuple[str, bool]:
        rng = self.rng
        if rng.random() >= PII_RATE:
            return text, False
        sentence = rng.choice(templates).format_map(context)
        if rng.random() < 0.5:
            return f"{text} {sentence}", True
        return f"{sentence}. {text}" if not sentence.endswith(".") else f"{sentence} {text}", True

    # ---------------------------------------------------------------- malformed

    def malformed(self, defect: str) -> GeneratedMessage:
        """A fresh message broken in one way production streams break.

        Built from a new valid payload (with its own event id) so that no two
        malformed messages share bytes and attributes.
        """
        rng = self.rng
        interaction = self.interaction()
        _, base, _ = rng.choice(interaction.messages)
        payload: dict[str, Any] = json.loads(base.data)
        attributes = dict(base.attributes)
        event_id: str | None = payload["event_id"]
        is_survey = base.topic == SURVEYS_TOPIC
        data = base.data

        if defect == "invalid_json":
            variant = rng.randrange(4)
            if variant == 0:
                data = data[:-1] + b",}"  # trailing comma
            elif variant == 1:
                data = data.replace(b'"', b"'")  # single quotes
            elif variant == 2:
                data = data.replace(b'"event_id":', b"event_id:", 1)  # unquoted key
            else:
                data = data + b"\n" + data  # two objects in one message
            event_id = None
        elif defect == "truncated_json":
            keep_from = data.index(event_id.encode()) + len(event_id)
            data = data[: rng.randint(keep_from, len(data) - 1)]
            event_id = None
        elif defect == "invalid_utf8":
            position = rng.randint(1, len(data) - 1)
            junk = rng.choice((b"\xff", b"\xa3", b"\xc3\x28", b"\xe9"))
            data = data[:position] + junk + data[position:]
            event_id = None
        elif defect == "missing_field":
            missing = rng.choice(SURVEY_REQUIRED if is_survey else NOTE_REQUIRED)
            del payload[missing]
            if missing == "event_id":
                event_id = None
            data = _compact(payload)
        elif defect in _FIELD_DAMAGE:
            key, value = rng.choice(_FIELD_DAMAGE[defect]["survey" if is_survey else "agent_note"])
            payload[key] = value
            data = _compact(payload)
        elif defect == "unknown_event_type":
            attributes["event_type"] = rng.choice(
                ("complaint", "Survey", "agent-note", "survey_v2", "chat_transcript")
            )
        elif defect == "missing_event_type":
            del attributes["event_type"]
        elif defect == "unknown_schema_version":
            attributes["schema_version"] = "99"
        else:  # pragma: no cover - MALFORMED_DEFECTS lists every branch
            raise ValueError(f"unknown defect {defect!r}")
        return GeneratedMessage(
            topic=base.topic,
            data=data,
            attributes=attributes,
            kind="malformed",
            event_type=attributes.get("event_type"),
            event_id=event_id,
            cause_ids=(),
        )


# --------------------------------------------------------------------------- helpers


def _survey_version(payload: dict[str, Any], primary: str) -> str:
    """Pick the survey's contract version, adding product_area to the payload for v2.

    Drawn from the bits of the (already random) event id rather than from the
    shared random source, so that mixing in v2 changed nothing else: seeds used by
    benchmarks and acceptance tests still make the same interactions, texts, valid
    messages and arrival order. (Malformed messages cut from a longer v2 payload
    draw different cut points, so those, and the draws after them, may differ.)
    """
    bits = uuid.UUID(payload["event_id"]).int  # the low 62 bits of a v4 UUID are random
    if (bits & 0xFFFFFFFF) >= SURVEY_V2_RATE * 2**32:
        return SCHEMA_VERSION
    areas = PRODUCT_AREAS.get(primary)
    if areas:
        payload["product_area"] = areas[(bits >> 32) % len(areas)]
    return SURVEY_V2


def _valid(
    payload: dict[str, Any], cause_ids: tuple[str, ...], schema_version: str = SCHEMA_VERSION
) -> GeneratedMessage:
    is_survey = "submitted_at" in payload
    event_type = "survey" if is_survey else "agent_note"
    return GeneratedMessage(
        topic=TOPIC_FOR_EVENT_TYPE[event_type],
        data=_compact(payload),
        attributes={
            "event_type": event_type,
            "schema_version": schema_version,
            "event_time": payload["submitted_at" if is_survey else "created_at"],
            # For Dataflow's native source, which drops re-publishes carrying the
            # same value (its id_label); locally the sink's key does the same.
            "event_id": payload["event_id"],
        },
        kind="valid",
        event_type=event_type,
        event_id=payload["event_id"],
        cause_ids=cause_ids,
    )


def _compact(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _rfc3339(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


def _cumulative(weights: Iterable[int]) -> list[int]:
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, items: Sequence[str], cumulative: Sequence[int]) -> str:
    """Weighted choice; bisect on cumulative weights is several times cheaper than choices()."""
    return items[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def _typo(rng: random.Random, text: str) -> str:
    """Swap two letters inside one longer word, as fast typing does (about 1 text in 10).

    Applied only to openers and closers so cause phrases stay recognisable; the
    matcher's recall is measured on what customers mean, not on spelling luck.
    """
    if not text or rng.random() >= 0.1:
        return text
    words = text.split(" ")
    candidates = [i for i, word in enumerate(words) if len(word) >= 5 and word.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    word = words[i]
    j = rng.randrange(1, len(word) - 2)
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def _restyle(rng: random.Random, text: str, customer: bool) -> str:
    """Vary surface style the way real writers do: case, apostrophes, spacing."""
    roll = rng.random()
    if customer:
        if roll < 0.08:
            text = text.lower()
        elif roll < 0.14:
            text = text.replace("'", "")
        elif roll < 0.24:
            text = text.replace("'", "\u2019")  # phone keyboards
    elif roll < 0.3:
        text = text.lower()
    elif roll < 0.36:
        text = text.replace("'", "")
    return text
