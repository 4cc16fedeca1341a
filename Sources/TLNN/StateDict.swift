import TLEngine

/// Saving and loading a model's weights under PyTorch's `state_dict` names.
extension Layer {
    /// Writes every parameter and buffer to a safetensors file that
    /// `nn.Module.load_state_dict(safetensors.torch.load_file(path))` accepts.
    public func saveWeights(to path: String) throws {
        let entries = namedParameters().map { ($0.name, $0.parameter.value, $0.parameter.storedType) }
        try Safetensors.write(entries, metadata: ["format": "pt"], to: path)
    }

    /// Loads weights by name. Every name of the model must be present with the same shape;
    /// names the model does not have are an error too, unless `strict` is false.
    public func loadWeights(_ tensors: [(name: String, tensor: Tensor)], source: String, strict: Bool = true) throws {
        let mine = namedParameters()
        var given: [String: Tensor] = [:]
        for (name, t) in tensors { given[name] = t }
        let missing = mine.map(\.name).filter { given[$0] == nil }
        let known = Set(mine.map(\.name))
        let unexpected = tensors.map(\.name).filter { !known.contains($0) }
        if !missing.isEmpty || (strict && !unexpected.isEmpty) {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
            if strict && !unexpected.isEmpty { parts.append("unexpected \(unexpected.joined(separator: ", "))") }
            throw FileError(source, "weights do not match the model: " + parts.joined(separator: "; "))
        }
        for (name, p) in mine {
            guard let t = given[name], t.shape == p.value.shape else {
                throw FileError(source, "'\(name)' has shape \(Shape.describe(given[name]?.shape ?? [])), the model expects \(Shape.describe(p.value.shape))")
            }
        }
        // Everything checked: now assign, so a failed load changes nothing.
        for (name, p) in mine {
            if let t = given[name] {
                if p.isBuffer { p.value = t.detached() } else { p.assign(t) }
            }
        }
    }

    /// Loads a safetensors file written by tl or by PyTorch.
    public func loadWeights(from path: String, strict: Bool = true) throws {
        try loadWeights(Safetensors.read(path).tensors, source: path, strict: strict)
    }
}
