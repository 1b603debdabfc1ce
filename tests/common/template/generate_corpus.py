#!/usr/bin/env python3
"""Generates corpus.jsonl, the differential test corpus of the template language: the seed
README's examples, hand-made edge cases per construct, and seeded random templates over
random items. Deterministic (fixed seed); rerun and commit the output after changing it:
    python3 tests/common/template/generate_corpus.py > tests/common/template/corpus.jsonl
Generated templates stay inside the supported subset and away from the documented
deviations (ints beyond the template limit of about 10,000 digits, printf-style %, complex
results). The sections after the first 2,600 cases (big ints, quotes, any/all) draw from their
own generators, so adding one leaves the cases before it unchanged."""
import json
import random

SEED = 20261128
rng = random.Random(SEED)

WORKS_URL = ("http://localhost?connector_name={item['node']['connector']['name']}"
             "&messages={item['node']['messages']}")
QUERIES = [
    '{{works(filters:[{{key:completed_time,operator:"gt",values:["LAST_POLL_TIME"]}}]){{edges{{node{{connector{{name}}messages{{message}}}}}}}}}}',
    '{{works(filters:[{{key:completed_time,operator:"gt",values:["LAST_POLL_TIME"]}},{{key:received_time,operator:"lt",values:["{LAST_POLL_TIME-60000*3}"]}}],filterMode:and){{edges{{node{{event_source_id}}}}}}}}',
    '{{works(filters:[{{key:processed_time,operator:"gt",values:["LAST_POLL_TIME"]}},{{key:received_time,operator:"lt",values:["{LAST_POLL_TIME-60000*3}"]}}],filterMode:and){{edges{{node{{event_source_id}}}}}}}}',
    '{{users(filters:[{{key:created_at,operator:"gt",values:["LAST_POLL_TIME"]}}]){{edges{{node{{user_email}}}}}}}}',
    '{{threatActors(filters:[{{key:updated_at,operator:"gt",values:["LAST_POLL_TIME"]}}],search:"<unique threat actor identifier>"){{edges{{node{{confidence}}}}}}}}',
    'query {{ since: {LAST_POLL_TIME // 1000}, iso: "{iso(LAST_POLL_TIME)}" }}',
]
URLS = [
    WORKS_URL,
    "http://localhost?event_id={item['node']['event_source_id']}",
    "http://localhost?email={item['node']['user_email']}",
    "http://localhost?confidence={item['node']['confidence']}",
]

STRINGS = ["", "a", "abc", "Hello World", "it's", 'say "hi"', "both ' and \"", "tab\there",
           "line\nbreak", "back\\slash", "é", "naïve café", "中文", "emoji 🎉", "\x00\x1f\x7f",
           "\u200b", "\xa0nbsp", "  padded  ", "a,b,,c", "UPPER lower", "ß", "ǅ", "İ",
           "x" * 30, "3", "-17", "2.5", " 42 ", "1_000", "1e3", "inf", "nan", "0x10", "abc123",
           "\u2028", "\U0001F600", "ﬃ"]
FLOATS = [0.0, -0.0, 0.1, 0.5, 1.5, 2.5, -2.5, 3.14159, 1e16, 1e15, 123456789.125, 1e-5,
          1.5e-7, 0.0001, 1e300, -1e-300, 2.675, 100.0, 1e22, 5e-324, 1.7976931348623157e308,
          float("inf"), float("-inf"), 12345.6789, 0.3]
INTS = [0, 1, -1, 2, 7, -7, 10, 42, 255, -255, 1000, 123456, 1700000000000, -12345678,
        2 ** 31, 2 ** 53 + 1, 9007199254740993, 65, 9223372036854775807]


def rand_scalar():
    k = rng.random()
    if k < 0.3:
        return rng.choice(STRINGS)
    if k < 0.55:
        return rng.choice(INTS)
    if k < 0.75:
        f = rng.choice(FLOATS)
        return f if f == f and abs(f) != float("inf") else 1.25  # JSON has no inf/nan
    if k < 0.85:
        return rng.choice([True, False])
    return None


def rand_json(depth=0):
    k = rng.random()
    if depth > 2 or k < 0.5:
        return rand_scalar()
    if k < 0.75:
        return [rand_json(depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["a", "b", "name", "id", "x y", "é", "0"]): rand_json(depth + 1)
            for _ in range(rng.randint(0, 4))}


def rand_item():
    return {
        "node": {
            "connector": {"name": rng.choice(["ImportFile", "AbuseIPDB", "MITRE ATT&CK", "é中"])},
            "messages": [{"message": rng.choice(STRINGS)} for _ in range(rng.randint(0, 3))],
            "event_source_id": rng.choice(["1700000000000-0", "abc", ""]),
            "count": rng.choice(INTS),
            "ratio": rng.choice([f for f in FLOATS if f == f and abs(f) != float("inf")]),
            "flag": rng.choice([True, False]),
            "none": None,
            "tags": [rng.choice(STRINGS[:12]) for _ in range(rng.randint(0, 4))],
            "nums": [rng.choice(INTS[:10] + [0.5, 2.25, -1.5]) for _ in range(rng.randint(0, 5))],
            "extra": rand_json(),
        }
    }


def str_lit(s):
    # No backslashes inside f-string expressions in Python 3.11.
    s = s.replace("\\", "/").replace("\n", " ").replace("\t", " ")
    s = "".join(c for c in s if ord(c) >= 0x20 and c not in "{}#")
    if "'" not in s:
        return "'" + s + "'"
    if '"' not in s:
        return '"' + s + '"'
    return "'" + s.replace("'", "") + "'"


PATHS = {
    "str": ["item['node']['connector']['name']", "item['node']['event_source_id']",
            "item['node']['messages'][0]['message']", "item['node']['tags'][-1]"],
    "int": ["item['node']['count']", "len(item['node']['tags'])", "item['node']['nums'][0]"],
    "float": ["item['node']['ratio']"],
    "list": ["item['node']['messages']", "item['node']['tags']", "item['node']['nums']"],
    "dict": ["item['node']", "item['node']['connector']", "item['node']['messages'][0]"],
    "any": ["item['node']['extra']", "item['node']['none']", "item['node']['flag']",
            "item['node']['missing']", "item['node']['tags'][3]"],
}


def lit(kind):
    if kind == "str":
        return str_lit(rng.choice(STRINGS))
    if kind == "int":
        return repr(rng.choice(INTS[:14]))
    if kind == "float":
        f = rng.choice(FLOATS[:20])
        return repr(f) if f >= 0 and repr(f)[0] != "-" else "(" + repr(f) + ")"
    if kind == "list":
        return "[" + ", ".join(lit(rng.choice(["int", "str", "float"])) for _ in range(rng.randint(0, 3))) + "]"
    if kind == "dict":
        return "{" + ", ".join(f"{str_lit(rng.choice(['a', 'b', 'c']))}: {lit('int')}" for _ in range(rng.randint(0, 3))) + "}"
    return rng.choice(["None", "True", "False", "(1, 'a')", "()", "(2,)"])


def expr(kind, depth=0):
    if depth > 3 or rng.random() < 0.3:
        return rng.choice(PATHS.get(kind, PATHS["any"])) if rng.random() < 0.5 else lit(kind)
    d = depth + 1
    k = kind
    if k == "int":
        return rng.choice([
            lambda: f"({expr('int', d)} {rng.choice(['+', '-', '*', '//', '%'])} {expr('int', d)})",
            lambda: f"({rng.randint(-9, 9)} ** {rng.randint(0, 12)})",
            lambda: f"len({expr(rng.choice(['str', 'list', 'dict']), d)})",
            lambda: f"int({expr(rng.choice(['float', 'str', 'int']), d)})",
            lambda: f"abs({expr('int', d)})",
            lambda: f"round({expr('float', d)})",
            lambda: f"-{expr('int', d)}",
            lambda: f"max({expr('int', d)}, {expr('int', d)})",
            lambda: f"min({expr('list', d)})",
            lambda: f"sum_of_nothing" if False else f"(True + {expr('int', d)})",
        ])()
    if k == "float":
        return rng.choice([
            lambda: f"({expr(rng.choice(['int', 'float']), d)} / {expr(rng.choice(['int', 'float']), d)})",
            lambda: f"({expr('float', d)} {rng.choice(['+', '-', '*', '//', '%'])} {expr(rng.choice(['int', 'float']), d)})",
            lambda: f"float({expr(rng.choice(['int', 'str']), d)})",
            lambda: f"round({expr('float', d)}, {rng.randint(-2, 4)})",
            lambda: f"({abs(rng.choice(FLOATS[:18]))} ** {rng.choice(['0.5', '2', '-1', '3.5'])})",
        ])()
    if k == "str":
        return rng.choice([
            lambda: f"({expr('str', d)} + {expr('str', d)})",
            lambda: f"str({expr(rng.choice(['int', 'float', 'list', 'dict', 'any']), d)})",
            lambda: f"repr({expr(rng.choice(['str', 'list', 'any']), d)})",
            lambda: f"{expr('str', d)}.{rng.choice(['lower', 'upper', 'strip'])}()",
            lambda: f"{expr('str', d)}.replace({lit('str')}, {lit('str')})",
            lambda: f"{str_lit(rng.choice([',', ' ', '-', '']))}.join({expr('list', d)})",
            lambda: f"{str_lit(',')}.join(str(x) for x in {expr('list', d)})",
            lambda: f"{expr('str', d)}[{rng.randint(-4, 4)}:{rng.choice(['', str(rng.randint(-3, 6))])}]",
            lambda: f"{expr('str', d)}[{rng.randint(-3, 3)}]",
            lambda: f"({expr('str', d)} * {rng.randint(-1, 3)})",
            lambda: f"json.dumps({expr(rng.choice(['list', 'dict', 'str', 'any', 'float']), d)}{rng.choice(['', ', sort_keys=True', ', ensure_ascii=False', ', indent=2', SEP])})",
            lambda: f"quote({expr('str', d)})",
            lambda: f"iso({rng.choice(['0', '1700000000123', ISO_ARG, '-1', '86399999.9'])})",
            lambda: f"({expr('str', d)} if {expr('bool', d)} else {expr('str', d)})",
            lambda: f"{expr('dict', d)}.get({lit('str')}, {lit('str')})",
        ])()
    if k == "list":
        return rng.choice([
            lambda: f"sorted({expr('list', d)}{rng.choice(['', ', reverse=True'])})",
            lambda: f"[m['message'] for m in item['node']['messages']]",
            lambda: f"[x for x in {expr('list', d)} if x]",
            lambda: f"({expr('list', d)} + {expr('list', d)})",
            lambda: f"{expr('str', d)}.split({rng.choice(['', repr(','), repr(' '), 'None, 1'])})",
            lambda: f"{expr('list', d)}[::{rng.choice(['-1', '2', '-2'])}]",
            lambda: f"({expr('list', d)} * {rng.randint(0, 2)})",
        ])()
    if k == "bool":
        return rng.choice([
            lambda: f"({expr('any', d)} {rng.choice(['==', '!=', '<', '<=', '>', '>='])} {expr('any', d)})",
            lambda: f"({expr('int', d)} < {expr('float', d)} <= {expr('int', d)})",
            lambda: f"({expr('str', d)} in {expr(rng.choice(['str', 'list', 'dict']), d)})",
            lambda: f"({expr('any', d)} is None)",
            lambda: f"({expr('any', d)} is not None)",
            lambda: f"not {expr('any', d)}",
            lambda: f"({expr('any', d)} and {expr('any', d)})",
            lambda: f"({expr('any', d)} or {expr('any', d)})",
            lambda: f"bool({expr('any', d)})",
            lambda: f"{expr('str', d)}.{rng.choice(['startswith', 'endswith'])}({lit('str')})",
        ])()
    if k == "dict":
        return rng.choice([lambda: lit("dict"), lambda: f"{{'k': {expr('any', d)}, 'n': {expr('int', d)}}}"])()
    return expr(rng.choice(["int", "float", "str", "list", "bool", "dict"]), d)


ISO_ARG = 'item["node"]["count"]'
SEP = ", separators=(',', ':')"
SPECS = ["", ">10", "<8", "^9", "*^11", "+", " ", "05", "010", ",", "_", ".2f", ".0f", "e", ".3e",
         "E", "g", ".3g", "G", "%", ".1%", "x", "#x", "X", "#o", "b", "#b", "d", "n", ".3",
         ".10", "s", ".2s", "=+8", "0=10", "z.1f", "#.0f", "#g", "08.3f", ",.2f", "_x", "c",
         ">+12,.3f", "10", "-^7", "abc", ",,", ".", "=5"]


def field():
    e = expr(rng.choice(["int", "float", "str", "list", "bool", "dict", "any"]))
    conv = rng.choice(["", "", "", "!r", "!s", "!a"])
    spec = rng.choice(SPECS) if rng.random() < 0.4 else ""
    if spec and rng.random() < 0.1:
        spec = "{" + rng.choice(["10", "'>8'", "item['node']['count'] % 7"]) + "}"
    return "{" + e + conv + (":" + spec if spec else "") + "}"


def generated():
    parts = []
    for _ in range(rng.randint(1, 3)):
        parts.append(rng.choice(["", "x=", "/", " | ", "{{", "}}", "é"]))
        parts.append(field())
    return "".join(parts)


def hand_made():
    """Edge cases per construct: (template, item)."""
    item = {"node": {"connector": {"name": "ImportFile"}, "messages": [{"message": "done"}],
                     "n": 5, "f": 2.5, "s": "it's", "none": None, "t": True, "l": [3, 1, 2],
                     "u": "é中🎉\x00\x7f\u200b", "big": 9223372036854775807}}
    cases = []
    fs = ["plain text", "", "{{", "}}", "{{}}", "a{{b}}c", "}", "a}b", "{", "{item", "{}", "{ }",
          "{item!x}", "{item!}", "{item!r x}", "{item#}", "{(}", "{)}", "{[)}", "{1:{2:{3}}}",
          "{'a}", "{1!r:>10}", "{1=}", "{1 + 1 = }", "{item['node']['n']=:>5}", "{1,2}", "{1,}",
          "{(1)}", "{ 1 }", "{\n1\n}", "{1:}", "{1!s:}", "{'{'}", "{'}'}", "{'}}'}",
          "{1:{'>'}{5}}", "{[1,2][0]}", "{ {'a': 1}['a'] }", "{{'a': 1}}", "{1 if 0 else 2}",
          "{1 != 2}", "{1 == 1}", "{1 < 2 > 0}", "{1 <= 2 >= 2}", "{item!r:^50}", "{1:#<5}",
          "{3:{'}'}}"]
    cases += [(t, item) for t in fs]
    # Backslash escapes in literal text and format specs: the Python connector evaluated
    # templates as ordinary f-strings, so they apply.
    escapes = [r"a\nb", r"tab\there", r"\{1}", r"x\}}", r"{1:\x3e5}", r"\101\x41\u00e9\U0001F600",
               r"\q", "line\\\nnext", r"\\{1}", r"{'a':\t>5}", r"\0", r"\777", r"\8", r"\x4",
               r"\u12", r"\U00110000", r"say \" and \'", r"\\", r"end\\\\", r"\a\b\f\v\r",
               r"http://h/?q=\u00e9&n={item['node']['n']}", r"{item['node']['n']:\x30\x35}"]
    cases += [(t, item) for t in escapes]
    exprs = [
        "1+2*3", "(1+2)*3", "2**3**2", "-2**2", "(-2)**2", "2**-1", "-7//2", "7//-2", "-7%3",
        "7%-3", "-7.5//2", "7.5%-2", "1/3", "2/2", "1//0", "1%0", "1/0", "1.0/0", "1.0//0",
        "1.0%0", "0**-1", "0.0**-1", "10**18", "10**19", "9223372036854775807+1",
        "-9223372036854775807-1", "2**62*2", "0.1+0.2", "1e16", "1e15", "1e-5", "0.0001",
        "1e300*1e10", "-0.0", "float('nan')", "float('-inf')", "float(' 1_000.5 ')",
        "float('1e5')", "float('abc')", "float('')", "int('  -42 ')", "int('4_2')", "int('4__2')",
        "int('x')", "int(2.9)", "int(-2.9)", "int(True)", "int(None)", "float(None)",
        "int(float('nan'))", "int(float('inf'))", "round(2.5)", "round(3.5)", "round(-2.5)",
        "round(2.675, 2)", "round(1234.5678, -2)", "round(15, -1)", "round(25, -1)",
        "round(0.5)", "round(1.5, 0)", "round('a')", "round(1, 1.5)", "abs(-3)", "abs(-3.5)",
        "abs('a')", "abs(True)", "True+True", "True*2.5", "not 0", "not []", "0 or 'x'",
        "'' and 1", "[] or {}", "None or 0", "1 and 2", "len('é中')", "len([1,2])", "len({})",
        "len(5)", "len(item)", "str(None)", "str(True)", "str(1.0)", "str([1,'a',None])",
        "repr('a')", "repr(\"it's\")", "repr('both \" and ' + \"'\")", "repr(item['node']['u'])",
        "ascii('é')", "str((1,))", "str(())", "str({'a': (1, 2)})", "min(3, 1, 2)",
        "max('a', 'b')", "min([])", "max([])", "min([], default=0)", "max([1, 'a'])",
        "min(1, 'a')", "sorted([3, 1, 2])", "sorted(['b', 'a', 'C'])", "sorted([1, 'a'])",
        "sorted('bca')", "sorted({'b': 1, 'a': 2})", "sorted([2, 1], reverse=True)",
        "sorted([1, 1.0, True])", "sorted([(2, 'a'), (1, 'b')])", "'a' + 1", "1 + 'a'",
        "[1] + 'a'", "(1,) + [1]", "'a' * 3", "3 * 'ab'", "'a' * -1", "[1, 2] * 2", "'a' * 'b'",
        "'a' * 1.5", "-'a'", "'abc'['a']", "[1]['a']", "None[0]", "5[0]", "{'a': 1}[[1]]",
        "[1][5]", "'a'[5]", "(1,)[5]", "[1, 2, 3][-1]", "[1, 2, 3][-4]", "'abc'[::-1]",
        "'abc'[::0]", "{}[:]", "'é中文'[1:]", "[1, 2, 3, 4][1:3]", "[1, 2, 3, 4][::2]",
        "[1, 2, 3][5:]", "'abc'[-10:10]", "[1,2,3][True]", "[1,2][1.0]", "'abc'[None:2]",
        "'abc'['a':]", "1 < 'a'", "[1] < [None]", "{} < {}", "None < None", "[1, 2] < [1, 3]",
        "(1, 2) < (1,)", "'a' < 'b' < 'c'", "1 == 1.0", "1 == True", "[1] == (1,)",
        "{'a': 1} == {'a': 1.0}", "float('nan') == float('nan')", "1 < 1.5", "2**53 + 1 > 2.0**53",
        "'a' in 'abc'", "5 in 'a'", "'a' in 5", "[1] in {}", "1 in [1.0]", "'a' not in {'a': 1}",
        "None is None", "0 is not None", "True is True", "item.get('node') is None",
        "item.get('missing')", "item.get('missing', 'dflt')", "item.get()", "{}.get([1])",
        "'A b C'.lower()", "'straße'.upper()", "'  x  '.strip()", "'xxhixx'.strip('x')",
        "'  x'.lstrip()", "'x  '.rstrip()", "'a'.strip(1)", "'aaa'.replace('a', 'b', 2)",
        "'abc'.replace('', '-')", "'a'.replace(1, 2)", "'a,b,,c'.split(',')", "' a  b '.split()",
        "'a b c'.split(None, 1)", "'a'.split('')", "'a,b'.split(',', maxsplit=1)",
        "','.join(['a', 'b'])", "','.join([1])", "','.join('abc')", "''.join([])",
        "'abc'.startswith('ab')", "'abc'.endswith(('x', 'c'))", "'a'.startswith(1)",
        "(5).lower()", "[1].join([])", "'a'.get('x')", "json.dumps({'a': [1, 2.5, None, True]})",
        "json.dumps('é\"')", "json.dumps('é', ensure_ascii=False)", "json.dumps(float('nan'))",
        "json.dumps({1: 2, None: 3, True: 4, 1.5: 5})", "json.dumps({(1,): 2})",
        "json.dumps({'b': 1, 'a': 2}, sort_keys=True)", "json.dumps([1, [2, {}]], indent=2)",
        "json.dumps({'a': []}, indent=0)", "json.dumps([1, 2], separators=(',', ':'))",
        "json.dumps(item)", "json.dumps(item['node']['u'])", "json.dumps((1, 2))",
        "[x * 2 for x in [1, 2, 3]]", "[x for x in [1, 2, 3] if x > 1]",
        "[(x, y) for x in [1, 2] for y in 'ab']", "[a + b for a, b in [(1, 2), (3, 4)]]",
        "[a for a, b in [(1, 2, 3)]]", "[a for a, b in [(1,)]]", "[a for a, b in [1]]",
        "','.join(m['message'] for m in item['node']['messages'])", "[x for x in 5]",
        "sorted(x for x in [3, 1])", "max(len(x) for x in ['a', 'abc'])",
        "[[y for y in range_] for range_ in [[1], [2, 3]]]", "{'a': 1, 'a': 2}",
        "{'b': 1, 'a': 2}", "{(1, 2): 'x'}[(1, 2)]", "{1: 'a'}[1.0]", "{[1]: 2}", "(1, 2)[1]",
        "item['node']['big'] + 1", "item['node']['big'] * 2", "-item['node']['big'] - 2",
        "iso(1700000000123)", "iso(0)", "iso(-1)", "iso(1.9)", "iso('x')", "iso(253402300800000)",
        "quote('a b&c=d/é')", "quote('~._-')", "quote(1)", "item['node']['missing']",
        "item['node']['n'] + item['node']['f']", "item['node']['s'] + 1",
        "item['node']['l'][1:]", "sorted(item['node']['l'])", "item['node']['none'] is None",
        "len(item['node']['u'])", "item['node']['u'][2]", "item['node']['u'].upper()",
        "1 if item['node']['t'] else 2", "'x' if item['node']['none'] else 'y'",
        "item['node']['connector']['name'].lower()", "[1, 2][item['node']['n'] - 4]",
        "item['node']['messages'][0].get('message')", "0777", "1__0",
    ]
    cases += [("{" + e + "}", item) for e in exprs]
    specs = [(v, s) for v in ["1", "-1", "1234567", "0", "True", "1.5", "-0.0", "1e16",
                               "1234.5678", "float('nan')", "float('-inf')", "'ab'", "'é'",
                               "None", "[1]", "255", "100.0", "1.0", "0.0001", "12.0"]
             for s in SPECS]
    cases += [("{" + v + ":" + s + "}", item) for v, s in specs]
    cases += [("{1:" + s + "}", item) for s in ["05,", "04,", "010,", "99999999999999999999",
                                                 "z", ".2d", "=5s", "+c", "_,", ",_", "xx"]]
    cases += [("{-1234:010,}", item), ("{1234.5:010,.1f}", item), ("{-255:#010x}", item),
              ("{1114112:c}", item), ("{'x':05}", item), ("{'x':0}", item), ("{12345:_b}", item),
              ("{1.5:=^5}", item), ("{1:.0%}", item), ("{3.0:_g}", item),
              ("{item['node']['f']:{item['node']['n']}.{item['node']['n'] - 3}f}", item)]
    return cases


BIG_VALUES = [2 ** 63, 2 ** 63 - 1, 2 ** 64 - 1, 2 ** 64, -2 ** 63, -2 ** 63 - 1,
              123456789012345678901234567890, -(10 ** 25), 10 ** 40 + 7, 2 ** 100 - 1, 7 ** 60]
BIG_OPERANDS = ["item['node']['big']", "item['node']['n']", "item['node']['f']",
                "item['node']['neg']", "7", "-3", "2.5", "1e19", "(2**64)", "(10**30)",
                "(-(2**63))", "0", "True", "9223372036854775807", "0x1ffffffffffffffff",
                "0b1" + "0" * 70, "0o7777777777777777777777777"]
BIG_OPS = ["+", "-", "*", "//", "%", "/", "**", "<", "<=", "==", "!=", ">", ">="]
BIG_SPECS = ["", ",", "_", "x", "#x", "X", "b", "_b", "o", "#o", "d", ">45", "<45,", "^50",
             "+", " ", "045,", "e", ".3e", "g", ".2f", "%", "c", "n", "=+40"]


def big_int_cases(r):
    """Ints beyond 64 bits, from the item (exact digits in JSON) and from arithmetic."""
    def item():
        return {"node": {"big": r.choice(BIG_VALUES), "n": r.choice([0, 3, 7, 64, -5, 100]),
                         "f": r.choice([0.5, 1e19, -2.5, 1e300, 9.2e18]),
                         "neg": -r.choice(BIG_VALUES), "count": r.randint(0, 220),
                         "score": r.choice([10 ** 9, 99, -12345678901])}}
    fixed = [
        "{7 ** item['node']['count']}", "{item['node']['score'] ** 7}",
        "{item['node']['big'] * item['node']['big']}", "{json.dumps(item)}", "{item}",
        "{item['node']['big']!r}", "{str(item['node']['big'])[::-1]}",
        "{item['node']['big'] // -7}, {item['node']['big'] % -7}",
        "{-item['node']['big']}", "{abs(item['node']['neg'])}", "{int(item['node']['big'])}",
        "{float(item['node']['big'])}", "{round(item['node']['big'], -5)}",
        "{round(item['node']['big'], -30)}", "{round(item['node']['big'], 3)}",
        "{int(str(item['node']['big']))}", "{int(' -' + str(item['node']['big']) + ' ')}",
        "{max(item['node']['big'], item['node']['f'], 3)}",
        "{sorted([item['node']['big'], item['node']['f'], -1, item['node']['neg']])}",
        "{item['node']['big'] in [item['node']['big']]}",
        "{ {item['node']['big']: 'k'}[item['node']['big']] }",
        "{bool(item['node']['big'])}", "{item['node']['big'] > 1e19}",
        "{item['node']['big'] == float(item['node']['big'])}",
        "{str(10**5000)}", "{len(str(10**4300))}", "{10**4300}", "{float(10**400)}",
        "{10**400/3}", "{10**400/10**399}", "{(2**70 + 1) / 3}", "{int('9' * 5000)}",
        "{int('9' * 4300) % 97}", "{[1][10**20]}", "{'a' * 10**20}", "{'a' * -(10**20)}", "{[1, 2][:10**20]}",
        "{'abc'[-(10**20):]}", "{2 ** -(10**30)}", "{(10**30) ** 0.5}", "{(10**400) ** -1}",
        "{1e300 < 10**300}", "{round(1e300)}", "{int(1e300)}", "{int(-1.5e19)}",
        "{json.dumps({2**64: 2**65})}", "{iso(2**70)}", "{2**63 - 1 + 1 - 1}",
        "{-9223372036854775808 // -1}", "{(-2**63) * -1}", "{abs(-2**63)}", "{-(-2**63)}",
        "{2**64 + 0.5}", "{2**53 + 1 + 0.0}", "{(2**64) % 2.5}", "{(2**64) // 2.5}",
        "{10**30 and 'x'}", "{[0] * (2**64 - 2**64)}", "{'{:,}'}", "{0x" + "f" * 40 + "}",
        "{" + "9" * 30 + "}", "{-" + "9" * 30 + "}",
    ]
    cases = [(t, item()) for t in fixed]
    for spec in BIG_SPECS:
        cases.append(("{item['node']['big']:" + spec + "}", item()))
        cases.append(("{item['node']['neg']:" + spec + "}", item()))
    for _ in range(260):
        a, b = r.choice(BIG_OPERANDS), r.choice(BIG_OPERANDS)
        op = r.choice(BIG_OPS)
        if op == "**":
            b = r.choice(["2", "3", "7", "0", "-1", "item['node']['count']", "-2"])
        e = f"({a} {op} {b})"
        if r.random() < 0.3:
            e = f"({e} {r.choice(['+', '*', '//', '%', '-'])} {r.choice(BIG_OPERANDS)})"
        spec = r.choice(BIG_SPECS) if r.random() < 0.25 else ""
        cases.append(("{" + e + (":" + spec if spec else "") + "}", item()))
    return cases


QUOTE_FIXED = [
    'a""b', 'a"" "{1}"', 'x" + str(1 + 1) + "y', '{{a}}"" "{{b}}', '" "{item[\'node\'][\'n\']}',
    '"', 'a"', 'a"b"', 'a"b', '\\"', 'say \\"hi\\"', '{\'"\'}', '" if 1 else "',
    '" * 3 + "', '"[0:0] + "x', '{item["node"]}', '" f"{1}" "', '" rf"\\n{1}" "',
    '" r"\\n{" "', '" u"x" "', '" + "{" + "', '"+ json.dumps(item) +"',
    '" + item[\'node\'][\'name\'] + "', '" == "', '" "" "', '" , "', '"x" f"{2:>5}" "',
    '"" """', '" """x""" "', '" \'\' "', '"\'"\'', '" + 1 + "', '" + str(len(item)) + "',
    '" "{{}}" f"{{}}" "', '"f"{1}"', '"\n"', 'a" "\n" "b', '" """ "', '"" if item else ""',
    '" + open("x").name + "', '{1}"" + "{2}', '" ; "',
    '" and item[\'node\'][\'missing\'] or "', '"[::-1] + "', '" Rf"{1}" FR"{2}" "',
    '" b"x" "', '" "é" "', '"" "" "" ""', '" \\\n "', '{1:"}', '{"a"}', '{1!r}"" "{2!r}"',
]


def quote_cases(r):
    """Quotes inside templates, both kinds, in both settings: the URL spliced into f"...",
    the query into f'...'. A quote of the setting's kind ends the f-string."""
    item = {"node": {"n": 5, "name": "Import \"x\" it's", "tags": ["a", "b"]}}
    cases = []
    for t in QUOTE_FIXED:
        cases.append((t, item, False))
        # The same in the query: swap the two quote characters.
        swapped = t.translate(str.maketrans({'"': "'", "'": '"'})).replace("item", "LAST_POLL_TIME")
        cases.append((swapped, None, True))
    seps = [" ", "", " + ", " + str({e}) + ", " {q2}lit{q2} ", " + {q2}{{{{x}}}}{q2} + ",
            " f{q}{{{e}}}{q} ", " r{q}\\d{q} ", " * 2 + ", " if {e} else "]
    exprs = ["1", "item['node']['n']", "len(item['node']['tags'])", "'x'", "item['node']['name']"]
    for query in (False, True):
        q, q2 = ("'", '"') if query else ('"', "'")
        for _ in range(60):
            parts = []
            for _ in range(r.randint(1, 4)):
                parts.append(r.choice(["x", "{{", "}}", "{1}", "a=", "{2 * 3}", "é", ""]))
                if r.random() < 0.7:
                    e = r.choice(exprs)
                    if query:
                        e = e.replace("item['node']['n']", "LAST_POLL_TIME").replace(
                            "item['node']['name']", "'n'").replace(
                            "len(item['node']['tags'])", "(LAST_POLL_TIME // 1000)")
                    e = e.replace("'", q2)
                    sep = r.choice(seps).format(e=e, q=q, q2=q2)
                    parts.append(q + sep + q)
            cases.append(("".join(parts), None if query else item, query))
    return cases


def any_all_cases(r):
    """any() and all(), with lists, strings, dicts and generator arguments (lazy: elements
    after the answer are never computed, so a later error does not happen)."""
    item = {"data": {"object_marking_refs": ["marking--a", "marking--tlp-red"],
                     "labels": [], "scores": [0, 3, 0.0, None], "name": "x"}}
    fixed = [
        "{any(m == 'marking--tlp-red' for m in item['data'].get('object_marking_refs', []))}",
        "{all(m.startswith('marking--') for m in item['data']['object_marking_refs'])}",
        "{any(item['data']['labels'])}", "{all(item['data']['labels'])}", "{any([])}",
        "{all([])}", "{any('')}", "{all('ab')}", "{any({'a': 0})}", "{all({0: 1})}",
        "{any(1 / x for x in [1, 0])}", "{all(1 / x for x in [0, 1])}",
        "{any(1 / x for x in [0, 1])}", "{all(x for x in [1, 0, 1 // 0])}", "{any(5)}",
        "{all(None)}", "{any(x for x in 5)}",
        "{any(s for s in item['data']['scores'])}", "{all(s for s in item['data']['scores'])}",
        "{any(a == b for a in 'abc' for b in 'xcz' if a)}", "{any(x, for x in [1])}",
        "{all([x > 0 for x in [1, 2]])}", "{any(item['data']['missing'] for x in [1])}",
        "{any(x for x in item['data']['missing'])}", "{[any(x) for x in [[0], [1], []]]}",
        "{any(x for x in [0, 0]) or all(x for x in [])}", "{not any(x for x in [])}", "{any(x for x in [[]] * 3)}",
    ]
    cases = [(t, item) for t in fixed]
    gens = ["x for x in item['data']['scores']", "x for x in item['data']['labels']",
            "m.endswith('red') for m in item['data']['object_marking_refs']",
            "x > 1 for x in [0, 1, 2]", "len(x) for x in ['', 'a']", "x for x in 'a0'",
            "10 // x for x in [5, 0]", "x % 2 for x in [2, 4] if x"]
    for _ in range(40):
        cases.append(("{" + r.choice(["any", "all"]) + "(" + r.choice(gens) + ")}", item))
    return cases


def main():
    out = []

    def add(template, item=None, query=False, last_poll_time=None):
        case = {"id": len(out), "template": template}
        if query:
            case["query"] = True
            case["last_poll_time"] = last_poll_time
        else:
            case["item"] = item
        out.append(case)

    for q in QUERIES:
        for ms in [0, 1700000000000, 1712345678901, 180000]:
            add(q, query=True, last_poll_time=ms)
    for url in URLS:
        for _ in range(15):
            it = rand_item()
            it["node"]["user_email"] = rng.choice(["a@b.c", "x+y@z.org"])
            it["node"]["confidence"] = rng.choice([0, 50, 100, None, 75.5])
            add(url, it)
    for template, item in hand_made():
        add(template, item)
    while len(out) < 2600:
        add(generated(), rand_item())
    for template, item in big_int_cases(random.Random(SEED + 1)):
        add(template, item)
    for template, item in any_all_cases(random.Random(SEED + 3)):
        add(template, item)
    for template, item, query in quote_cases(random.Random(SEED + 2)):
        if query:
            add(template, query=True, last_poll_time=1700000000000)
        else:
            add(template, item)
    for case in out:
        print(json.dumps(case, ensure_ascii=False))


main()
