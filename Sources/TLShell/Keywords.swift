/// `:help for`, `:help def`, …: the language's keywords, each its form, a few lines and an example
/// that runs as printed (docs/language.md has the whole language).
struct KeywordHelp: Sendable {
    /// The keywords this page answers for (`if` and `else` share one).
    let names: [String]
    let usage: String
    let text: String
    let example: String

    var page: String {
        usage + "\n\n" + wrap(text, indent: "  ") + "\n\nexample (runs as is):\n" + indented(example) + "\n"
    }

    static func named(_ name: String) -> KeywordHelp? { all.first { $0.names.contains(name) } }

    static let all: [KeywordHelp] = [
        KeywordHelp(
            names: ["for", "in"], usage: "for NAME in SEQUENCE { … }      [EXPR for NAME in SEQUENCE if CONDITION]",
            text: "Runs the block once for each item of a list, each character of a string, each field name of a record or each row of a tensor (its first axis), NAME bound to it; break leaves the loop, continue goes on to the next item. In brackets it collects a list instead (a list comprehension), keeping only the items whose condition is true when `if` follows; there NAME is bound only inside the brackets.",
            example: "total = 0\nfor k in range(1, 4) { total = total + k }\ntotal\n[k * k for k in range(6) if k % 2 == 0]"),
        KeywordHelp(
            names: ["while"], usage: "while CONDITION { … }",
            text: "Runs the block again and again while the condition is true (false, none, 0, \"\" and [] are false); break and continue as in a for loop. Ctrl-C stops a loop that never ends and keeps every binding.",
            example: "n = 1\nwhile n < 100 { n = n * 3 }\nn"),
        KeywordHelp(
            names: ["if", "else"], usage: "if CONDITION { … } else if CONDITION { … } else { … }",
            text: "Runs the first block whose condition is true, else the else block. `else` must follow the `}` of its if on the same line. A tensor of more than one element is neither true nor false: compare max(x) or sum(x).",
            example: "acc = 0.83\nif acc > 0.9 { print(\"great\") } else if acc > 0.5 { print(\"fine\") } else { print(\"poor\") }"),
        KeywordHelp(
            names: ["def", "return"], usage: "def NAME(a, b=DEFAULT) { …; return VALUE }",
            text: "Defines a function: parameters in order, those with a default may be left out or given by name (f(1, b=2)). return ends the call with a value (none without one, or at the block's end). Names assigned inside are local unless declared global.",
            example: "def gain(adapted, source=0.7) { return round(adapted - source, 3) }\ngain(0.82)\ngain(0.82, source=0.75)"),
        KeywordHelp(
            names: ["break", "continue"], usage: "break      continue",
            text: "Inside a for or while loop: break leaves the loop at once; continue skips the rest of the block and goes on to the next item.",
            example: "for k in range(10) {\n    if k % 2 == 0 { continue }\n    if k > 5 { break }\n    print(k)\n}"),
        KeywordHelp(
            names: ["global"], usage: "global NAME, OTHER",
            text: "Inside a def: assignments to these names change the session's bindings instead of making locals. Reading a global needs no declaration.",
            example: "runs = 0\ndef count() { global runs; runs = runs + 1 }\ncount(); count()\nruns"),
        KeywordHelp(
            names: ["and", "or", "not"], usage: "A and B      A or B      not A",
            text: "and gives the first false operand, or the last; or the first true operand, or the last; the right side runs only when needed. not gives true or false.",
            example: "none or \"default\"\n0.8 > 0.5 and 3 < 2\nnot []"),
        KeywordHelp(
            names: ["true", "false", "none"], usage: "true      false      none",
            text: "The two truth values and the empty value. false, none, 0, \"\" and [] count as false in a condition; a one-element tensor counts as its element. A statement whose value is none shows nothing.",
            example: "[true and 1, type(none), none == false]"),
    ]
}
