import ArgumentParser
import TLEngine
import TLKernel
import TLLang
import TLShell

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `tl` command: the shell, a script runner, and the modes of docs/language.md ("Running tl").
struct TL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tl",
        abstract: "A shell for transfer-learning experiments.",
        discussion: """
            With no FILE and a terminal, tl starts the interactive shell (:help lists what there \
            is). With standard input from a pipe, it runs the statements read from it.

            Exit status: 0 on success, 1 on a runtime error, 2 on a syntax or usage error, 130 when \
            Ctrl-C stopped a script.

            Environment: TL_THREADS (threads, default every core), TL_MEMORY_BUDGET (e.g. 4G, default \
            half of memory), TL_HISTORY (history file, default ~/.tl_history), NO_COLOR.

            Examples:
              tl scripts/lecture/00-tour.tl
              tl --step scripts/lecture/08-dann.tl
              tl --notebook dann.ipynb scripts/lecture/08-dann.tl
              tl -e 'print(tensor([1, 2]) @ tensor([3, 4]))'
              tl kernel install          (then pick "tl" in JupyterLab, VS Code or the classic notebook)

            The language, every builtin and command: docs/language.md in tl's repository.
            """,
        version: "\(Version.string)\n\(BLASKernels.configuration)")

    @ArgumentParser.Argument(help: "A .tl script to run.")
    var file: String?

    @Flag(name: .shortAndLong, help: "Run FILE, then stay in the shell with its bindings.")
    var interactive = false

    @Option(name: .customShort("e"), help: ArgumentHelp("Run one line of code.", valueName: "code"))
    var execute: String?

    @Flag(help: "Parse FILE and resolve its names without running it; report every error.")
    var check = false

    @Flag(help: "Teaching mode: show each cell of FILE, wait for a key, run it.")
    var step = false

    @Option(help: ArgumentHelp("Run FILE and write it with every cell's outputs: OUT.ipynb (Jupyter), OUT.md (Markdown, figures beside it) or OUT.tl.", valueName: "OUT"))
    var notebook: String?

    @Option(help: ArgumentHelp("Serve as a Jupyter kernel (Jupyter starts this; `tl kernel install` registers it).", valueName: "connection-file"))
    var kernel: String?

    @Option(help: .hidden)
    var reference: String?

    /// The kernels OpenBLAS was told to use (set by the restart in main), for scripts/test.
    @Flag(help: .hidden)
    var openblasCoretype = false

    func validate() throws {
        let modes = [execute != nil, check, step, notebook != nil, kernel != nil].filter { $0 }.count
        guard modes <= 1 else { throw ValidationError("use only one of -e, --check, --step, --notebook and --kernel") }
        if kernel != nil && file != nil { throw ValidationError("--kernel takes no FILE") }
        if (check || step || interactive || notebook != nil) && file == nil { throw ValidationError("this mode needs a FILE") }
        if let notebook, !([".ipynb", ".md", ".tl"].contains { notebook.lowercased().hasSuffix($0) }) {
            throw ValidationError("--notebook writes .ipynb, .md or .tl, not '\(notebook)'")
        }
        if execute != nil && file != nil { throw ValidationError("give either -e CODE or a FILE, not both") }
    }

    func run() throws {
        if openblasCoretype {
            print(getenv("OPENBLAS_CORETYPE").map { String(cString: $0) } ?? "")
            return
        }
        if let reference {
            // A generated section of the documentation (scripts/generate-docs).
            guard let section = Reference.section(named: reference) else {
                throw ValidationError("no reference section '\(reference)'; there are \(Reference.sections.map(\.name).joined(separator: ", "))")
            }
            print(section.text())
            return
        }
        InterruptHandler.install()
        if let warning = Parallel.configureFromEnvironment() { Console.standard.err(warning + "\n") }
        if let kernel {
            do {
                throw ExitCode(try Kernel(connectionFile: kernel).run())
            } catch let error as KernelError {
                Console.standard.err("tl: \(error)\n")
                throw ExitCode(1)
            } catch let error as ZMQError {
                Console.standard.err("tl: cannot serve as a kernel: \(error)\n")
                throw ExitCode(1)
            }
        }
        let session = Session()
        let interactiveInput = Terminal.isInteractive
        var status: Int32 = 0
        if let code = execute {
            status = Session.status(session.run(Source(name: "-e", text: code)))
        } else if let file, let notebook {
            status = session.writeNotebook(script: file, to: notebook)
        } else if let file, check {
            status = session.check(file)
        } else if let file, step {
            switch session.step(file) {
            case .shell: status = session.interact(reader: reader(session), banner: false)
            case .finished, .quit: status = 0
            }
        } else if let file {
            status = session.runFile(file)
            if interactive && status != 2 {
                status = session.interact(reader: reader(session))
            }
        } else if interactiveInput {
            status = session.interact(reader: reader(session))
        } else {
            // Statements from a pipe run as a script.
            var text = ""
            while let line = readLine(strippingNewline: false) { text += line }
            status = Session.status(session.run(Source(name: "<stdin>", text: text)))
        }
        // SIGTERM or SIGHUP: the statement stopped and any file being written was finished.
        throw ExitCode(Termination.exitStatus ?? status)
    }

    private func reader(_ session: Session) -> LineReader {
        Terminal.isInteractive ? ReadlineLineReader(session: session, historyPath: ReadlineLineReader.defaultHistoryPath) : PlainLineReader()
    }
}

// First of all: OpenBLAS may have loaded its slow generic kernels on a CPU it does not know.
BLASKernels.restartWithBetterKernelsIfNeeded()

/// `tl kernel install | uninstall`: registers tl with Jupyter.
struct KernelSpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tl kernel", abstract: "Register tl as a Jupyter kernel, or remove it.",
        subcommands: [Install.self, Uninstall.self])

    struct Location: ParsableArguments {
        @Flag(help: "In your Jupyter data directory ($JUPYTER_DATA_DIR or ~/.local/share/jupyter; the default).")
        var user = false
        @Option(help: ArgumentHelp("Under PREFIX/share/jupyter (a virtual environment's or a system prefix).", valueName: "prefix"))
        var prefix: String?

        func validate() throws {
            if user && prefix != nil { throw ValidationError("give --user or --prefix, not both") }
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the kernelspec (kernel.json) where Jupyter finds it.")
        @OptionGroup var location: Location
        func run() throws {
            let dir = try KernelSpec.install(prefix: location.prefix)
            print("installed the tl kernel in \(dir) (runs \(KernelSpec.executable)); `jupyter kernelspec list` shows it")
        }
    }

    struct Uninstall: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the kernelspec.")
        @OptionGroup var location: Location
        func run() throws {
            print("removed \(try KernelSpec.uninstall(prefix: location.prefix))")
        }
    }
}

// Usage errors exit with 2, as the contract says (ArgumentParser's default is 64).
if CommandLine.arguments.count > 1, CommandLine.arguments[1] == "kernel" {
    do {
        var command = try KernelSpecCommand.parseAsRoot(Array(CommandLine.arguments.dropFirst(2)))
        try command.run()
        Glibc.exit(0)
    } catch {
        let code = KernelSpecCommand.exitCode(for: error)
        let message = KernelSpecCommand.fullMessage(for: error)
        if code == .success {
            print(message)
            Glibc.exit(0)
        }
        Console.standard.err("tl kernel: " + message + "\n")
        Glibc.exit(error is KernelError ? 1 : 2)
    }
}
do {
    var command = try TL.parseAsRoot()
    try command.run()
} catch let exit as ExitCode {
    Glibc.exit(exit.rawValue)
} catch {
    let code = TL.exitCode(for: error)
    let message = TL.fullMessage(for: error)
    if code == .success {
        print(message)
        Glibc.exit(0)
    }
    Console.standard.err(message + "\n")
    Glibc.exit(2)
}
