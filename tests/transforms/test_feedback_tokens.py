"""Tokenizing feedback for the cause rules: words on roots, one spelling per meaning
(contractions, abbreviations, hashtags, near-miss spellings), sentence and clause
numbers, and character spans that always slice the text the tokens came from."""

from __future__ import annotations

import pytest

from voc.transforms.feedback_tokens import (
    BUILTIN_ABBREVIATIONS,
    NEGATION_ROOT,
    Token,
    Vocabulary,
    root_of,
    tokenize,
)


def words(text: str, vocabulary: Vocabulary | None = None) -> list[str]:
    return [token.word for token in tokenize(text, vocabulary)]


def slices(text: str, vocabulary: Vocabulary | None = None) -> list[str]:
    return [text[token.start : token.end] for token in tokenize(text, vocabulary)]


def vocabulary(*rule_words: str) -> Vocabulary:
    return Vocabulary.build(BUILTIN_ABBREVIATIONS, frozenset(rule_words))


# --------------------------------------------------------------------------- tokens


def test_a_token_carries_word_root_span_sentence_clause_and_index():
    assert tokenize("Packages arrived late.") == [
        Token("packages", "packag", 0, 8, 0, 0, 0),
        Token("arrived", "arriv", 9, 16, 0, 0, 1),
        Token("late", "late", 17, 21, 0, 0, 2),
    ]


def test_case_is_folded_and_punctuation_is_not_a_token():
    assert words("The PARCEL, it's LATE!!") == ["the", "parcel", "it", "late"]


def test_empty_and_punctuation_only_text_have_no_tokens():
    assert tokenize("") == []
    assert tokenize(" ... !? , -- ") == []


def test_index_is_the_position_in_the_list_even_when_one_word_becomes_two():
    # "didn't" gives two tokens, so every later index moves by one
    tokens = tokenize("I didn't get 2fa codes")
    assert [token.index for token in tokens] == list(range(len(tokens)))
    assert [token.word for token in tokens] == [
        "i",
        "did",
        "not",
        "get",
        "two",
        "factor",
        "codes",
    ]


# --------------------------------------------------------------------------- roots


@pytest.mark.parametrize(
    "spellings",
    [
        ("package", "packages", "packaged"),
        ("charge", "charged", "charges", "charging"),
        ("refund", "refunds", "refunded"),
    ],
)
def test_inflections_share_one_root(spellings):
    assert len({root_of(word) for word in spellings}) == 1


@pytest.mark.parametrize(
    ("adverb", "adjective"),
    [("manually", "manual"), ("actually", "actual"), ("usually", "usual")],
)
def test_ually_adverbs_keep_their_own_root(adverb, adjective):
    # Snowball would make "manually" "manual": a rule about manual steps is not
    # a rule about doing something manually
    assert root_of(adverb) == adverb
    assert root_of(adjective) != root_of(adverb)


@pytest.mark.parametrize("word", ["45", "3rd", "ok", "u", "café2"])
def test_short_and_non_alphabetic_words_are_their_own_root(word):
    assert root_of(word) == word


def test_root_of_is_stable_across_calls():
    # cached: the second answer must be the first
    assert root_of("cancellations") == root_of("cancellations") == "cancel"


# --------------------------------------------------------------------------- contractions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("didn't", ["did", "not"]),
        ("didnt", ["did", "not"]),
        ("doesn't", ["does", "not"]),
        ("can't", ["can", "not"]),
        ("cant", ["can", "not"]),
        ("cannot", ["can", "not"]),
        ("won't", ["will", "not"]),
        ("wont", ["will", "not"]),
        ("ain't", ["is", "not"]),
        ("shan't", ["shall", "not"]),
        ("I've", ["i", "have"]),
        ("ive", ["i", "have"]),
        ("im", ["i", "am"]),
        ("they're", ["they", "are"]),
        ("we'll", ["we", "will"]),
        ("I'd", ["i", "would"]),
        ("I'm", ["i", "am"]),
        ("it's", ["it"]),
        ("customer's", ["customer"]),
        ("customers'", ["customers"]),
    ],
)
def test_contractions_have_one_spelling(text, expected):
    assert words(text) == expected


@pytest.mark.parametrize("text", ["didn\u2019t", "didn\u2018t", "didn\u02bct", "DIDN'T"])
def test_negation_is_spelled_not_whatever_the_apostrophe(text):
    tokens = tokenize(text)
    assert [token.word for token in tokens] == ["did", NEGATION_ROOT]
    # both words come from, and slice back to, the whole contraction
    assert {(token.start, token.end) for token in tokens} == {(0, len(text))}


# --------------------------------------------------------------------------- abbreviations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("w/o", ["without"]),
        ("w/ receipt", ["with", "receipt"]),
        ("pkg", ["package"]),
        ("PKGS", ["packages"]),
        ("2fa", ["two", "factor"]),
        ("2FA", ["two", "factor"]),
        ("hrs", ["hours"]),
        ("acct", ["account"]),
        ("asap", ["as", "soon", "as", "possible"]),
        ("recieved", ["received"]),
        ("and/or", ["and", "or"]),
    ],
)
def test_builtin_abbreviations_are_expanded(text, expected):
    assert words(text) == expected


def test_expanded_words_all_slice_back_to_the_abbreviation():
    text = "sent asap w/o pkg"
    assert slices(text) == ["sent", "asap", "asap", "asap", "asap", "w/o", "pkg"]


def test_a_packs_abbreviations_replace_the_builtin_table():
    pack = Vocabulary.build({"pkg": "parcel", "sim": "sim card"}, frozenset())
    # the built-in table is gone: "w/o" is no longer "without", just two letters
    assert words("pkg sim w/o", pack) == ["parcel", "sim", "card", "w", "o"]


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "expected_words", "expected_slices"),
    [
        ("45min", ["45", "minute"], ["45", "min"]),
        ("2hrs", ["2", "hours"], ["2", "hrs"]),
        ("1.5hrs", ["1.5", "hours"], ["1.5", "hrs"]),
        ("10mins", ["10", "minutes"], ["10", "mins"]),
        ("30days", ["30", "days"], ["30", "days"]),
        # ordinals stay one token: "5th" is a number of its own kind
        ("5th", ["5th"], ["5th"]),
        ("3rd", ["3rd"], ["3rd"]),
        ("21st", ["21st"], ["21st"]),
        ("45", ["45"], ["45"]),
        ("24/7", ["24", "7"], ["24", "7"]),
    ],
)
def test_numbers_with_glued_units_are_split(text, expected_words, expected_slices):
    assert words(text) == expected_words
    assert slices(text) == expected_slices


# --------------------------------------------------------------------------- hashtags


@pytest.mark.parametrize(
    ("text", "expected_words", "expected_slices"),
    [
        ("#NeverArrived", ["never", "arrived"], ["Never", "Arrived"]),
        ("#never_arrived", ["never", "arrived"], ["never", "arrived"]),
        # the parts are words like any other: "doa" is expanded, on the part's span
        (
            "#DOAPackage",
            ["dead", "on", "arrival", "package"],
            ["DOA", "DOA", "DOA", "Package"],
        ),
        ("#Waited3Hours", ["waited", "3", "hours"], ["Waited", "3", "Hours"]),
        # no case to split on and no vocabulary: the tag is one word, without the "#"
        ("#stillwaiting", ["stillwaiting"], ["stillwaiting"]),
        ("#FAIL", ["fail"], ["FAIL"]),
    ],
)
def test_hashtags_split_on_case(text, expected_words, expected_slices):
    assert words(text) == expected_words
    assert slices(text) == expected_slices


def test_run_together_hashtag_is_split_by_the_vocabulary():
    # "still" is a glue word, "waiting" a rule word
    text = "so #stillwaiting"
    assert words(text, vocabulary("waiting")) == ["so", "still", "waiting"]
    assert slices(text, vocabulary("waiting")) == ["so", "still", "waiting"]


def test_hashtag_split_uses_the_fewest_pieces():
    split = words("#stillwaiting", vocabulary("wait", "ing", "waiting"))
    assert split == ["still", "waiting"]


def test_hashtag_that_the_vocabulary_cannot_spell_stays_one_word():
    assert words("#stillwaitinglol", vocabulary("waiting")) == ["stillwaitinglol"]


def test_very_long_hashtags_are_not_segmented():
    # over 40 letters the split is not tried (it is quadratic in the length)
    tag = "waiting" * 6  # 42 letters
    assert words("#" + tag, vocabulary("waiting")) == [tag]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#CaféClosed", ["café", "closed"]),
        ("#Überfällig", ["überfällig"]),
        ("#EntregaAtrasadaNão", ["entrega", "atrasada", "não"]),
    ],
)
def test_hashtag_words_keep_their_non_ascii_letters(text, expected):
    # A letter of a hashtag must never be dropped: the case split finds only ASCII
    # letters, so "#CaféClosed" gave "caf" + "closed" and "#Überfällig" "berf" + "llig".
    assert words(text) == expected
    assert "".join(slices(text)).lower() == "".join(expected)


def test_contraction_inside_a_hashtag_is_spelled_not():
    # Every negation is spelled "not" after tokenizing, also inside "#DidntArrive";
    # otherwise "{order} {not} arrived" cannot match the tag.
    assert words("#PackageDidntArrive") == ["package", "did", "not", "arrive"]


# --------------------------------------------------------------------------- near misses


def test_near_misses_are_one_deletion_or_one_adjacent_swap_of_a_rule_word():
    vocab = vocabulary("refund", "waiting", "received")
    assert words("refnd waitnig recived Refnd", vocab) == [
        "refund",
        "waiting",
        "received",
        "refund",
    ]
    assert vocab.near_misses["refnd"] == "refund"
    assert vocab.near_misses["rfeund"] == "refund"


def test_near_misses_are_not_fixed_without_a_vocabulary():
    assert words("refnd waitnig") == ["refnd", "waitnig"]


def test_rule_words_shorter_than_six_letters_have_no_near_misses():
    vocab = vocabulary("delay", "refund")
    assert words("dely refnd", vocab) == ["dely", "refund"]
    assert "dely" not in vocab.near_misses
    assert "dealy" not in vocab.near_misses


@pytest.mark.parametrize(
    ("rule_words", "text", "expected"),
    [
        # an inserted letter is not a near miss: a charger is not a charge
        (("charge",), "charger", "charger"),
        # nor a substituted one
        (("charged",), "charger", "charger"),
        # "charge" is "charged" less a letter, but its root is the rule's root
        (("charged",), "charge", "charge"),
        (("charged",), "chargd", "charged"),
        # a rule word is never "fixed" into another rule word
        (("charge", "charged"), "charge", "charge"),
    ],
)
def test_charger_does_not_read_as_charge(rule_words, text, expected):
    assert words(text, vocabulary(*rule_words)) == [expected]


def test_a_word_whose_root_a_rule_uses_is_not_a_misspelling():
    # "defect" is "deflect" less a letter; it is left alone only because "defective"
    # (root "defect") is a rule word
    assert words("defect", vocabulary("deflect")) == ["deflect"]
    assert words("defect", vocabulary("deflect", "defective")) == ["defect"]


def test_built_vocabulary_indexes_roots_and_excludes_its_own_words():
    vocab = vocabulary("cancelled", "waiting")
    assert vocab.roots == {"cancel", "wait"}
    assert "cancelled" not in vocab.near_misses
    assert vocab.near_misses["canclled"] == "cancelled"
    assert vocab.near_misses["acncelled"] == "cancelled"


# --------------------------------------------------------------------------- sentences


def test_sentences_are_numbered_and_runs_of_enders_count_once():
    tokens = tokenize("...Hello!! Bye.\n\nAgain? Yes; no")
    assert [(token.word, token.sentence) for token in tokens] == [
        ("hello", 0),
        ("bye", 1),
        ("again", 2),
        ("yes", 3),
        ("no", 4),
    ]


def test_a_line_break_ends_a_sentence():
    assert [token.sentence for token in tokenize("late\nrude")] == [0, 1]


def test_clauses_split_on_commas_colons_brackets_and_dashes():
    text = "a, b: c (d) e \u2013 f \u2014 g - k. m"
    assert [(token.word, token.clause) for token in tokenize(text)] == [
        ("a", 0),
        ("b", 1),
        ("c", 2),
        ("d", 3),
        ("e", 4),
        ("f", 5),
        ("g", 6),
        ("k", 7),
        ("m", 8),
    ]
    assert {token.sentence for token in tokenize(text)[:-1]} == {0}


def test_a_hyphen_inside_a_word_is_not_a_clause_break():
    tokens = tokenize("follow-up call")
    assert [(token.word, token.clause) for token in tokens] == [
        ("follow", 0),
        ("up", 0),
        ("call", 0),
    ]


@pytest.mark.parametrize("space", ["\u00a0", "\t"])
def test_a_dash_between_any_spaces_is_a_pause_not_a_word(space):
    # "\s-\s" matches a no-break space or a tab too (common in pasted text); such a
    # dash must end the clause like " - " does, and never become a word token
    text = f"slow{space}-{space}rude"
    assert [(token.word, token.clause) for token in tokenize(text)] == [
        ("slow", 0),
        ("rude", 1),
    ]


# --------------------------------------------------------------------------- offsets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "My #NeverArrived pkg didn't come. I cant wait 45min, 2hrs w/o info!",
            [
                "My",
                "Never",
                "Arrived",
                "pkg",
                "didn't",
                "didn't",
                "come",
                "I",
                "cant",
                "cant",
                "wait",
                "45",
                "min",
                "2",
                "hrs",
                "w/o",
                "info",
            ],
        ),
        (
            "I\u2019m sure it\u2019s wrong \u2013 they won\u2019t help.",
            [
                "I\u2019m",
                "I\u2019m",
                "sure",
                "it\u2019s",
                "wrong",
                "they",
                "won\u2019t",
                "won\u2019t",
                "help",
            ],
        ),
        (
            "Café naïve: straße İstanbul 2fa \u00fcber",
            ["Café", "naïve", "straße", "İstanbul", "2fa", "2fa", "über"],
        ),
        ("  \u00bfD\u00f3nde est\u00e1 mi pedido?  ", ["Dónde", "está", "mi", "pedido"]),
    ],
)
def test_every_span_slices_the_original_text(text, expected):
    assert slices(text) == expected


def test_spans_with_typographic_apostrophes_are_those_of_the_unfolded_text():
    text = "Don\u2019t \u2018ship\u2019 it\u2019s broken"
    tokens = tokenize(text)
    assert [token.word for token in tokens] == ["do", "not", "ship", "it", "broken"]
    assert [text[token.start : token.end] for token in tokens] == [
        "Don\u2019t",
        "Don\u2019t",
        "ship\u2019",
        "it\u2019s",
        "broken",
    ]


def test_spans_are_in_reading_order():
    text = "Day 3: pkg #NeverArrived, called 5th time; 2hrs on hold w/o answer"
    tokens = tokenize(text, vocabulary("answer"))
    starts = [token.start for token in tokens]
    assert starts == sorted(starts)
    assert all(0 <= token.start < token.end <= len(text) for token in tokens)


def test_words_cache_does_not_leak_between_vocabularies():
    # the same spelling tokenizes differently under different packs
    assert words("pkg", Vocabulary.build({"pkg": "parcel"}, frozenset())) == ["parcel"]
    assert words("pkg", Vocabulary.build({"pkg": "package"}, frozenset())) == ["package"]
    assert words("refnd", vocabulary("refund")) == ["refund"]
    assert words("refnd") == ["refnd"]
