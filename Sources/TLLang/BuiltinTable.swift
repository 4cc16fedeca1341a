/// The one table of builtins: from it come calls, argument errors, `:help`, completion of
/// keyword names and the reference pages (`LanguageReference`). Each group of builtins lives in `Builtins/`.
public enum BuiltinTable {
    public static let all: [Builtin] = TensorBuiltins.all + MathBuiltins.all + DataBuiltins.all + ModelBuiltins.all + PEFTBuiltins.all + ExportBuiltins.all
        + MethodBuiltins.all + TrainingBuiltins.all + FigureBuiltins.all + CoreBuiltins.all

    public static let byName: [String: Builtin] = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

    public static let names: [String] = all.map(\.name)

    /// The groups in the order `:help` lists them.
    public static let groups: [String] = {
        var seen: [String] = []
        for b in all where !seen.contains(b.group) { seen.append(b.group) }
        return seen
    }()
}
