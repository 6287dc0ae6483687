/// A test command as the attempt runs it. `/bin/sh -c` costs a shell's start and a fork per
/// attempt (about 1.3 ms of CPU here); a command that is only words — no quoting, expansion,
/// globbing, redirection, operator, assignment or builtin — means to the shell exactly its words,
/// so it is executed directly, its `PATH` searched by the launcher as the shell would. Should that
/// exec fail (not found, not executable, a script without `#!`), the launcher runs the words under
/// `/bin/sh -c` after all (`AttemptRequest.shellFallback`), so the shell's own message and exit
/// status (127, 126) are what the attempt reports, as before.
public enum ShellCommand {
    /// The command's words when the shell would run them as they are; nil: run it with `sh -c`.
    public static func words(_ command: String) -> [String]? {
        guard command.unicodeScalars.allSatisfy({ plain.contains($0) || $0 == " " || $0 == "\t" }) else { return nil }
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first, !first.contains("="), !builtins.contains(first) else { return nil }
        return words
    }

    /// Characters that mean nothing to the shell inside a word (no `~`, which expands at a word's
    /// start, no `#`, which starts a comment, no `=`-free test needed beyond the first word).
    private static let plain = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./,:@%+=-".unicodeScalars)

    /// Words the shell runs itself (POSIX special and regular builtins, keywords, and dash's own):
    /// executed directly they would be another program, or none. `true` and `false` are not here:
    /// `/usr/bin/true` and `/usr/bin/false` do exactly what the builtins do, whatever the arguments.
    private static let builtins: Set<String> = [
        ".", ":", "[", "alias", "bg", "break", "case", "cd", "command", "continue", "do", "done", "echo", "elif",
        "else", "esac", "eval", "exec", "exit", "export", "fc", "fg", "fi", "for", "getopts", "hash", "if", "in",
        "jobs", "kill", "local", "printf", "pwd", "read", "readonly", "return", "set", "shift", "test", "then",
        "times", "trap", "type", "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
    ]
}
