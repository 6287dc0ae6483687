/// A classic-BPF interpreter for seccomp programs, so tests can check what a compiled filter decides
/// without loading it into the kernel.
///
/// It runs `struct sock_filter` arrays (host byte order) over a `struct seccomp_data`, implementing the
/// instruction set seccomp accepts (loads from the data, scratch memory, ALU, jumps, returns), and
/// fails loudly on anything else (out-of-range loads, jumps past the end, falling off the end).
struct SeccompBPFInterpreter {
    /// `struct seccomp_data`.
    struct SeccompData {
        var nr: Int32
        var arch: UInt32
        var instructionPointer: UInt64 = 0
        var args: [UInt64] = Array(repeating: 0, count: 6)

        init(nr: Int32, arch: UInt32, args: [UInt64] = []) {
            self.nr = nr
            self.arch = arch
            for (index, value) in args.enumerated() {
                self.args[index] = value
            }
        }

        /// The 64 bytes the kernel hands the filter, in host byte order.
        var bytes: [UInt8] {
            var bytes: [UInt8] = []
            withUnsafeBytes(of: nr) { bytes += $0 }
            withUnsafeBytes(of: arch) { bytes += $0 }
            withUnsafeBytes(of: instructionPointer) { bytes += $0 }
            for arg in args {
                withUnsafeBytes(of: arg) { bytes += $0 }
            }
            return bytes
        }
    }

    struct Instruction {
        var code: UInt16
        var jt: UInt8
        var jf: UInt8
        var k: UInt32
    }

    enum Failure: Error, CustomStringConvertible {
        case badLength(Int)
        case badInstruction(pc: Int, code: UInt16)
        case badLoad(pc: Int, offset: UInt32)
        case jumpOutOfProgram(pc: Int)
        case fellOffTheEnd
        case divisionByZero(pc: Int)

        var description: String {
            switch self {
            case .badLength(let count): "program length \(count) is not a multiple of 8"
            case .badInstruction(let pc, let code): "unsupported instruction 0x\(String(code, radix: 16)) at \(pc)"
            case .badLoad(let pc, let offset): "load at \(pc) reads outside seccomp_data (offset \(offset))"
            case .jumpOutOfProgram(let pc): "jump at \(pc) leaves the program"
            case .fellOffTheEnd: "the program ended without returning"
            case .divisionByZero(let pc): "division by zero at \(pc)"
            }
        }
    }

    let instructions: [Instruction]

    init(bytes: [UInt8]) throws {
        guard bytes.count % 8 == 0 else { throw Failure.badLength(bytes.count) }
        var instructions: [Instruction] = []
        for start in stride(from: 0, to: bytes.count, by: 8) {
            let chunk = Array(bytes[start..<start + 8])
            let code = chunk.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt16.self) }
            let k = chunk.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) }
            instructions.append(Instruction(code: code, jt: chunk[2], jf: chunk[3], k: k))
        }
        self.instructions = instructions
    }

    /// Runs the program and returns the 32-bit seccomp action (`SECCOMP_RET_*` | data).
    func run(_ data: SeccompData) throws -> UInt32 {
        try trace(data).action
    }

    /// Runs the program; returns the action and how many instructions it executed to reach it.
    func trace(_ data: SeccompData) throws -> (action: UInt32, executed: Int) {
        let input = data.bytes
        var executed = 0
        var a: UInt32 = 0
        var x: UInt32 = 0
        var memory = [UInt32](repeating: 0, count: 16)
        var pc = 0
        func loadWord(_ offset: UInt32, at pc: Int) throws -> UInt32 {
            // seccomp only allows aligned 32-bit loads inside struct seccomp_data.
            guard offset % 4 == 0, Int(offset) + 4 <= input.count else { throw Failure.badLoad(pc: pc, offset: offset) }
            return input.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: Int(offset), as: UInt32.self) }
        }
        while pc < instructions.count {
            executed += 1
            let instruction = instructions[pc]
            let code = instruction.code
            let k = instruction.k
            let operand = code & 0x08 == 0 ? k : x  // BPF_K / BPF_X
            switch code & 0x07 {  // instruction class
            case 0x00:  // BPF_LD
                switch code {
                case 0x20: a = try loadWord(k, at: pc)  // BPF_LD | BPF_W | BPF_ABS
                case 0x00: a = k  // BPF_LD | BPF_IMM
                case 0x60: a = memory[Int(k & 15)]  // BPF_LD | BPF_MEM
                case 0x80: a = UInt32(input.count)  // BPF_LD | BPF_W | BPF_LEN
                default: throw Failure.badInstruction(pc: pc, code: code)
                }
            case 0x01:  // BPF_LDX
                switch code {
                case 0x01: x = k  // BPF_LDX | BPF_IMM
                case 0x61: x = memory[Int(k & 15)]  // BPF_LDX | BPF_MEM
                case 0x81: x = UInt32(input.count)  // BPF_LDX | BPF_W | BPF_LEN
                default: throw Failure.badInstruction(pc: pc, code: code)
                }
            case 0x02: memory[Int(k & 15)] = a  // BPF_ST
            case 0x03: memory[Int(k & 15)] = x  // BPF_STX
            case 0x04:  // BPF_ALU
                switch code & 0xF0 {
                case 0x00: a = a &+ operand
                case 0x10: a = a &- operand
                case 0x20: a = a &* operand
                case 0x30:
                    guard operand != 0 else { throw Failure.divisionByZero(pc: pc) }
                    a /= operand
                case 0x40: a |= operand
                case 0x50: a &= operand
                case 0x60: a = operand >= 32 ? 0 : a << operand
                case 0x70: a = operand >= 32 ? 0 : a >> operand
                case 0x80: a = 0 &- a
                case 0x90:
                    guard operand != 0 else { throw Failure.divisionByZero(pc: pc) }
                    a %= operand
                case 0xA0: a ^= operand
                default: throw Failure.badInstruction(pc: pc, code: code)
                }
            case 0x05:  // BPF_JMP
                let target: Int
                switch code & 0xF0 {
                case 0x00: target = pc + 1 + Int(k)  // BPF_JA
                case 0x10: target = pc + 1 + Int(a == operand ? instruction.jt : instruction.jf)
                case 0x20: target = pc + 1 + Int(a > operand ? instruction.jt : instruction.jf)
                case 0x30: target = pc + 1 + Int(a >= operand ? instruction.jt : instruction.jf)
                case 0x40: target = pc + 1 + Int(a & operand != 0 ? instruction.jt : instruction.jf)
                default: throw Failure.badInstruction(pc: pc, code: code)
                }
                guard target < instructions.count else { throw Failure.jumpOutOfProgram(pc: pc) }
                pc = target
                continue
            case 0x06:  // BPF_RET
                switch code & 0x18 {
                case 0x00: return (k, executed)  // BPF_K
                case 0x10: return (a, executed)  // BPF_A
                default: throw Failure.badInstruction(pc: pc, code: code)
                }
            case 0x07:  // BPF_MISC
                switch code & 0xF8 {
                case 0x00: x = a  // BPF_TAX
                case 0x80: a = x  // BPF_TXA
                default: throw Failure.badInstruction(pc: pc, code: code)
                }
            default:
                throw Failure.badInstruction(pc: pc, code: code)
            }
            pc += 1
        }
        throw Failure.fellOffTheEnd
    }
}

/// seccomp return values, for readable expectations.
enum SeccompReturn {
    static let killProcess: UInt32 = 0x8000_0000
    static let killThread: UInt32 = 0x0000_0000
    static let trap: UInt32 = 0x0003_0000
    static let allow: UInt32 = 0x7FFF_0000
    static let log: UInt32 = 0x7FFC_0000
    static func errno(_ value: UInt32) -> UInt32 { 0x0005_0000 | value }
}
