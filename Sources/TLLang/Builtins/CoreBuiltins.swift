#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLEngine
import TLNN

/// Printing, sequences, conversions, time and the random seed.
enum CoreBuiltins {
    static let all: [Builtin] = [
        Builtin("print", [.rest("values", .any, "values to print"),
                          .optional("sep", .string, .string(" "), keyword: true, "text between values"),
                          .optional("end", .string, .string("\n"), keyword: true, "text after the last value")],
                group: "looking at things", help: "Writes values as text: strings as they are, tensors as their elements.",
                example: "print(\"accuracy\", 0.91, sep=\": \")") { args in
            let values = try args.list("values")
            // Strings print in full: they are copied into the line written.
            try Memory.reserve(values.reduce(0) { if case .string(let s) = $1 { $0 + s.utf8.count } else { $0 } }, for: "print")
            let text = values.map(\.plain).joined(separator: try args.string("sep")) + (try args.string("end"))
            args.interpreter.output(text)
            return .none
        },
        Builtin("str", [.required("x", .any, "any value")], group: "looking at things",
                help: "The text form of a value, as print writes it.", example: "\"epoch \" + str(3)") { args in
            .string(args.value("x").plain)
        },
        Builtin("type", [.required("x", .any, "any value")], group: "looking at things",
                help: "The name of a value's type: number, string, list, tensor, ….", example: "type(zeros(2))") { args in
            .string(args.value("x").typeName)
        },
        Builtin("shape", [.required("x", .tensor, "a tensor, or a nested list")], group: "looking at things",
                help: "The size of each axis, as a list.", example: "shape(zeros(2, 3))") { args in
            .list(try args.tensor("x").shape.map { .number(Double($0)) })
        },
        Builtin("len", [.required("x", .any, "a list, string, record, dataset, tensor or sequential model")], group: "looking at things",
                help: "The number of items: elements of a list, characters of a string, fields of a record, samples of a dataset, rows of a tensor, layers of a sequential model (net[0] … net[len(net) - 1]).",
                example: "len([1, 2, 3])") { args in
            switch args.value("x") {
            case .list(let items): return .number(Double(items.count))
            case .string(let s): return .number(Double(s.count))
            case .record(let r): return .number(Double(r.fields.count))
            case .dataset(let d): return .number(Double(d.count))
            case .tensor(let t):
                guard let n = t.shape.first else { throw args.error(for: "x", expected: "a list, string, record, dataset or a tensor with an axis", got: .tensor(t)) }
                return .number(Double(n))
            case .model(let m) where m.network is Sequential:
                return .number(Double((m.network as? Sequential)?.count ?? 0))
            case let v: throw args.error(for: "x", expected: "a list, string, record, dataset, tensor or sequential model", got: v)
            }
        },
        Builtin("range", [.required("start", .integer, "the first value, or the end when it is the only argument"),
                          .optional("end", .integer, .none, "values stop before this"),
                          .optional("step", .integer, .number(1), "the distance between values")],
                group: "looking at things", help: "The integers from start up to (not including) end, as a list.",
                example: "range(1, 4)") { args in
            let (a, b) = args.isNone("end") ? (0, try args.int("start")) : (try args.int("start"), try args.int("end"))
            let step = try args.int("step")
            guard step != 0 else { throw args.error(for: "step", expected: "a whole number other than 0", got: .number(0)) }
            let count = step > 0 ? Swift.max(0, (b - a + step - 1) / step) : Swift.max(0, (a - b - step - 1) / -step)
            guard count <= 10_000_000 else { throw args.error("\(count) values are too many for a list; use arange for a tensor") }
            try Memory.reserve(Operators.listBytes(count), for: "range")
            return .list(stride(from: a, to: b, by: step).map { .number(Double($0)) })
        },
        Builtin("round", [.required("x", .any, "a number or a tensor"),
                          .optional("digits", .integer, .number(0), "decimal places to keep")],
                group: "looking at things", help: "Rounds to a number of decimal places (halves away from zero).",
                example: "round(0.87654, 2)") { args in
            let digits = try args.int("digits")
            guard Swift.abs(digits) <= 15 else { throw args.error(for: "digits", expected: "between -15 and 15", got: .number(Double(digits))) }
            let scale = Glibc.pow(10, Double(digits))
            switch args.value("x") {
            case .number(let v): return .number((v * scale).rounded() / scale)
            case .tensor(let t):
                let values = t.scalars.map { Float((Double($0) * scale).rounded() / scale) }
                return .tensor(try Tensor(shape: t.shape, values: values))
            case let v: throw args.error(for: "x", expected: "a number or a tensor", got: v)
            }
        },
        Builtin("clock", [], group: "looking at things",
                help: "Seconds on a monotonic clock, for timing: t = clock(); …; clock() - t.",
                example: "t = clock(); clock() - t >= 0") { _ in .number(Clock.seconds()) },
        Builtin("seed", [.required("n", .integer, "any integer")], group: "data",
                help: "Seeds every random draw (initialisation, shuffling, data, dropout): the same script with the same seed prints the same numbers.",
                example: "seed(42); rand(2)") { args in
            GlobalRandom.seed(UInt64(bitPattern: Int64(try args.int("n"))))
            return .none
        },
    ]
}
