import Foundation
import Testing
@testable import TLLang
@testable import TLShell

/// The documentation is part of the product: its generated sections match the code, its links
/// and the paths it names resolve inside the repository, and nothing refers outside it.
@Suite struct DocumentationTests {
    /// README.md and every page of docs/.
    static var pages: [String] {
        let docs = (try? FileManager.default.contentsOfDirectory(atPath: packageRoot + "/docs")) ?? []
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }

    static func read(_ relative: String) throws -> String {
        try #require(String(validating: try readBytes(packageRoot + "/" + relative), as: UTF8.self), "\(relative) is UTF-8")
    }

    @Test func thereIsALanguageReferenceAndAnArchitecture() {
        #expect(Self.pages.contains("docs/language.md"))
        #expect(Self.pages.contains("docs/architecture.md"))
    }

    /// Each generated section (builtins, properties, commands, topics) is what the code says now.
    @Test(arguments: Reference.sections.map(\.name))
    func generatedSectionIsCurrent(_ name: String) throws {
        let section = try #require(Reference.section(named: name))
        let page = try Self.read(section.file)
        let start = "<!-- \(name):start -->\n", end = "\n<!-- \(name):end -->"
        let from = try #require(page.range(of: start), "\(section.file) has the markers of \(name)")
        let to = try #require(page.range(of: end, range: from.upperBound..<page.endIndex))
        let current = String(page[from.upperBound..<to.lowerBound]) == section.text()
        #expect(current, "\(section.file)'s \(name) section is stale: regenerate it with scripts/generate-docs")
    }

    @Test func everyBuiltinIsInTheLanguageReference() throws {
        let page = try Self.read("docs/language.md")
        for b in BuiltinTable.all {
            let listed = page.contains("#### `\(b.name)`\n\n```\n\(b.signature)\n```")
            #expect(listed, "\(b.name) in docs/language.md")
        }
    }

    /// Every relative link of README.md and docs/ names a file inside the repository, and an
    /// anchor names a heading of its page.
    @Test func relativeLinksResolve() throws {
        var checked = 0
        for page in Self.pages {
            let text = try Self.read(page)
            for target in Markdown.links(in: text) {
                if target.contains("://") || target.hasPrefix("mailto:") { continue }
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let directory = (page as NSString).deletingLastPathComponent
                let file = parts[0].isEmpty ? page : Markdown.normalise(directory.isEmpty ? parts[0] : directory + "/" + parts[0])
                guard let file else {
                    Issue.record("\(page): link '\(target)' leaves the repository")
                    continue
                }
                #expect(FileManager.default.fileExists(atPath: packageRoot + "/" + file), "\(page): link '\(target)' names a missing file")
                if parts.count == 2, file.hasSuffix(".md"), let linked = try? Self.read(file) {
                    #expect(Markdown.anchors(in: linked).contains(parts[1]), "\(page): link '\(target)': no such heading in \(file)")
                }
                checked += 1
            }
        }
        #expect(checked >= 10, "links were found (\(checked))")
    }

    /// Paths of the repository named in the text (`scripts/test`, `Benchmarks/peers/`, …) exist.
    @Test func namedPathsExist() throws {
        let roots = ["scripts/", "Benchmarks/", "Sources/", "Tests/", "docs/", "examples/", "Fuzz/", ".ci/"]
        for page in Self.pages {
            for path in Markdown.paths(in: try Self.read(page), under: roots) {
                #expect(FileManager.default.fileExists(atPath: packageRoot + "/" + path), "\(page) names '\(path)', which is not in the repository")
            }
        }
    }

    /// The README opens with the two commands of a fresh machine, each an executable of the
    /// repository: one runs the tour through the shell, one runs every test.
    @Test func readmeOpensWithTheTwoCommands() throws {
        let readme = try Self.read("README.md")
        let block = try #require(Markdown.codeBlocks(in: readme).first, "README.md has a code block")
        let commands = block.split(separator: "\n").map { $0.split(separator: "#")[0].trimmingCharacters(in: .whitespaces) }
        #expect(commands == ["scripts/tl scripts/lecture/00-tour.tl", "scripts/test"])
        for command in commands {
            let words = command.split(separator: " ").map(String.init)
            #expect(FileManager.default.isExecutableFile(atPath: packageRoot + "/" + words[0]), "\(words[0]) is executable")
            for word in words.dropFirst() { #expect(FileManager.default.fileExists(atPath: packageRoot + "/" + word)) }
        }
    }

    /// No file of the project refers to the workspace outside the repository.
    @Test func nothingRefersOutsideTheRepository() throws {
        let outside = ".." + "/shared"
        var seen = 0
        for top in ["README.md", "Package.swift", ".ci", "docs", "scripts", "Sources", "Tests", "Benchmarks", "examples", "Fuzz"] {
            let root = packageRoot + "/" + top
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else { continue }
            let files = isDirectory.boolValue
                ? (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String }.map { root + "/" + $0 } ?? [])
                : [root]
            for file in files {
                guard let bytes = try? readBytes(file), let text = String(validating: bytes, as: UTF8.self) else { continue }
                seen += 1
                let refersOutside = text.contains(outside)
                #expect(!refersOutside, "\(file) refers to \(outside)")
            }
        }
        #expect(seen > 100)
    }
}

/// Just enough Markdown reading for the checks above.
enum Markdown {
    /// Lines outside fenced code blocks.
    static func proseLines(_ text: String) -> [Substring] {
        var inFence = false
        return text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            if line.hasPrefix("```") { inFence.toggle(); return false }
            return !inFence
        }
    }

    /// The contents of fenced code blocks, in order.
    static func codeBlocks(in text: String) -> [String] {
        var blocks: [String] = [], current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if let c = current { blocks.append(c.joined(separator: "\n")); current = nil } else { current = [] }
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// Targets of `[text](target)` links outside code blocks and code spans.
    static func links(in text: String) -> [String] {
        proseLines(text).flatMap { line in
            line.replacing(/`[^`]*`/, with: "").matches(of: /\]\(([^)\s]+)\)/).map { String($0.output.1) }
        }
    }

    /// Repository paths named anywhere (prose or code) that start with one of `roots`; globs and
    /// placeholders in capitals (`FILE.tl`) are left out.
    static func paths(in text: String, under roots: [String]) -> Set<String> {
        var found: Set<String> = []
        for match in text.matches(of: /(?:^|[^\w.\/~-])((?:\.ci|[A-Za-z]+)\/[\w.\/+-]*)/.anchorsMatchLineEndings()) {
            var path = String(match.output.1)
            guard roots.contains(where: { path.hasPrefix($0) }) else { continue }
            while let last = path.last, ".,:".contains(last) { path.removeLast() }
            if path.contains("*") || path.contains("..") { continue }
            found.insert(path)
        }
        return found
    }

    /// `docs/../README.md` → `README.md`; nil when the path climbs out of the repository.
    static func normalise(_ path: String) -> String? {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    /// GitHub's anchors for the headings of a page: lower case, punctuation dropped, spaces as `-`,
    /// repeated headings numbered.
    static func anchors(in text: String) -> Set<String> {
        var seen: [String: Int] = [:], anchors: Set<String> = []
        for line in proseLines(text) where line.hasPrefix("#") {
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            var slug = ""
            for c in title.lowercased() {
                if c.isLetter || c.isNumber || c == "-" || c == "_" { slug.append(c) } else if c == " " { slug.append("-") }
            }
            let n = seen[slug, default: 0]
            seen[slug] = n + 1
            anchors.insert(n == 0 ? slug : "\(slug)-\(n)")
        }
        return anchors
    }
}
