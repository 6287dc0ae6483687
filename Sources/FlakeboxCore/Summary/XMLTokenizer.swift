/// A strict, non-validating XML 1.0 tokenizer (with the namespace well-formedness rules) for
/// untrusted UTF-8 input: the checks `JUnitReport` relied on libxml2 for, in memory-safe Swift.
///
/// It pulls one event at a time, so a caller can stop early, and never recurses: open elements are
/// an explicit stack, capped at `maximumDepth`. Work is linear in the input. It refuses anything
/// that is not well-formed, any encoding but UTF-8, and any DOCTYPE with declarations in it, so no
/// entity is ever declared, let alone expanded. The first error is final: `next()` keeps throwing it.
struct XMLTokenizer {
    enum Event: Equatable {
        /// Attribute names as written, prefix included, `xmlns` declarations among them (as
        /// `XMLParser` reported them without namespace processing); values with references decoded
        /// and whitespace normalized.
        case startElement(name: String, attributes: [String: String])
        case endElement(name: String)
        /// Character data outside CDATA sections, references decoded, line ends normalized.
        case text(String)
        /// A CDATA section's content, as written.
        case cdata(String)
    }

    struct Failure: Error, Equatable {
        enum Reason: Equatable {
            case invalidUTF8
            /// A code point XML does not allow (most C0 controls, U+FFFE, U+FFFF), written or referenced.
            case invalidCharacter
            case unexpectedEnd
            case malformedDeclaration
            case unsupportedEncoding
            case malformedName
            case malformedTag
            case duplicateAttribute
            case lessThanInAttributeValue
            case malformedReference
            case undeclaredEntity
            case mismatchedEndTag
            case cdataEndInText
            case malformedComment
            case malformedProcessingInstruction
            case malformedDoctype
            /// A DOCTYPE with declarations: refused whatever they declare.
            case internalSubset
            case noRootElement
            case contentAfterRoot
            case tooDeep
            case undeclaredPrefix
            case malformedNamespace
        }

        var reason: Reason
        /// Byte offset where it was found.
        var offset: Int
    }

    /// libxml2's documented default limit (its push mode never enforced it).
    static let defaultMaximumDepth = 256

    private enum Phase {
        case start
        case prolog
        case content
        case epilog
        case finished
    }

    private struct OpenElement {
        var name: String
        var nameRange: Range<Int>
        /// Prefixes this element binds, unbound again when it ends.
        var declaredPrefixes: [String]
    }

    private static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"
    /// RFC 3986's unreserved and reserved punctuation.
    private static let uriPunctuation = Set("-._~:/?#[]@!$&'()*+,;=".utf8)

    private let bytes: [UInt8]
    private let maximumDepth: Int
    private var index = 0
    private var phase = Phase.start
    private var openElements: [OpenElement] = []
    /// The element of a `<name/>` tag, whose end is the next event.
    private var selfClosed = false
    private var sawDoctype = false
    /// Prefix to the stack of URIs bound to it (innermost last).
    private var namespaces: [String: [String]] = ["xml": [Self.xmlNamespace]]
    /// Reused for every decoded value, so building one costs its length, not more.
    private var buffer: [UInt8] = []
    private var failure: Failure?

    init(_ bytes: [UInt8], maximumDepth: Int = Self.defaultMaximumDepth) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    /// The next event, nil once the document has ended well-formed.
    mutating func next() throws(Failure) -> Event? {
        if let failure { throw failure }
        do {
            return try advance()
        } catch {
            failure = error
            throw error
        }
    }

    // MARK: - Document structure

    private mutating func advance() throws(Failure) -> Event? {
        if selfClosed {
            selfClosed = false
            return endElement()
        }
        while true {
            switch phase {
            case .start:
                try skipByteOrderMarkAndDeclaration()
                phase = .prolog
            case .prolog:
                skipWhitespace()
                guard index < bytes.count else { throw fail(.noRootElement) }
                guard bytes[index] == UInt8(ascii: "<") else { throw fail(.noRootElement) }
                if starts(with: "<?") {
                    try skipProcessingInstruction()
                } else if starts(with: "<!--") {
                    try skipComment()
                } else if starts(with: "<!DOCTYPE") {
                    guard !sawDoctype else { throw fail(.malformedDoctype) }
                    sawDoctype = true
                    try skipDoctype()
                } else if starts(with: "<!") || starts(with: "</") {
                    throw fail(.noRootElement)
                } else {
                    phase = .content
                    return try startElement()
                }
            case .content:
                guard index < bytes.count else { throw fail(.unexpectedEnd) }
                guard bytes[index] == UInt8(ascii: "<") else { return try text() }
                if starts(with: "</") {
                    return try endTag()
                } else if starts(with: "<!--") {
                    try skipComment()
                } else if starts(with: "<![CDATA[") {
                    return try cdata()
                } else if starts(with: "<?") {
                    try skipProcessingInstruction()
                } else if starts(with: "<!") {
                    throw fail(.malformedTag)
                } else {
                    return try startElement()
                }
            case .epilog:
                skipWhitespace()
                guard index < bytes.count else {
                    phase = .finished
                    return nil
                }
                if starts(with: "<?") {
                    try skipProcessingInstruction()
                } else if starts(with: "<!--") {
                    try skipComment()
                } else {
                    throw fail(.contentAfterRoot)
                }
            case .finished:
                return nil
            }
        }
    }

    /// `<?xml version="1.0" (encoding="UTF-8")? (standalone="yes|no")? ?>`, only at the very start.
    private mutating func skipByteOrderMarkAndDeclaration() throws(Failure) {
        if starts(with: [0xEF, 0xBB, 0xBF]) { index += 3 }
        guard starts(with: "<?xml"), index + 5 < bytes.count, isWhitespace(bytes[index + 5]) else { return }
        index += 5
        skipWhitespace()
        // libxml2 warned about (so the old parser refused) any version but 1.0.
        guard try declarationAttribute("version") == "1.0" else { throw fail(.malformedDeclaration) }
        var spaced = skipWhitespace()
        if spaced, let encoding = try declarationAttribute("encoding") {
            // Other encodings would need transcoding; test runners write UTF-8.
            guard ["utf-8", "utf8", "us-ascii", "ascii"].contains(encoding.lowercased()) else {
                throw fail(.unsupportedEncoding)
            }
            spaced = skipWhitespace()
        }
        if spaced, let standalone = try declarationAttribute("standalone") {
            guard standalone == "yes" || standalone == "no" else { throw fail(.malformedDeclaration) }
            skipWhitespace()
        }
        guard starts(with: "?>") else { throw fail(.malformedDeclaration) }
        index += 2
    }

    /// `name = "value"` in the XML declaration, nil when the next word is not `name`.
    private mutating func declarationAttribute(_ name: String) throws(Failure) -> String? {
        guard starts(with: name) else { return nil }
        index += name.utf8.count
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { throw fail(.malformedDeclaration) }
        index += 1
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
            throw fail(.malformedDeclaration)
        }
        let quote = bytes[index]
        let start = index + 1
        guard let end = bytes[start...].firstIndex(of: quote) else { throw fail(.unexpectedEnd) }
        // Versions, encoding names and yes/no are ASCII letters, digits and `._-`.
        guard bytes[start..<end].allSatisfy({ isASCIILetterOrDigit($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D })
        else { throw fail(.malformedDeclaration) }
        index = end + 1
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// `<!DOCTYPE name (SYSTEM "…" | PUBLIC "…" "…")? ([ ])? >`: nothing is loaded, and an
    /// internal subset is refused unless it is empty.
    private mutating func skipDoctype() throws(Failure) {
        index += 9
        guard skipWhitespace(), try scanName() != nil else { throw fail(.malformedDoctype) }
        if skipWhitespace(), let literals = starts(with: "SYSTEM") ? 1 : starts(with: "PUBLIC") ? 2 : nil {
            index += 6
            for _ in 0..<literals {
                guard skipWhitespace() else { throw fail(.malformedDoctype) }
                try skipQuotedLiteral()
            }
            skipWhitespace()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "[") {
            index += 1
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            guard bytes[index] == UInt8(ascii: "]") else { throw fail(.internalSubset) }
            index += 1
            skipWhitespace()
        }
        guard index < bytes.count else { throw fail(.unexpectedEnd) }
        guard bytes[index] == UInt8(ascii: ">") else { throw fail(.malformedDoctype) }
        index += 1
    }

    private mutating func skipQuotedLiteral() throws(Failure) {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
            throw fail(.malformedDoctype)
        }
        let quote = bytes[index]
        index += 1
        while true {
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            if bytes[index] == quote { break }
            try skipCharacter()
        }
        index += 1
    }

    /// `<!-- … -->`; `--` inside is an error, as in XML.
    private mutating func skipComment() throws(Failure) {
        index += 4
        while true {
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            if bytes[index] == UInt8(ascii: "-"), starts(with: "--") {
                guard starts(with: "-->") else { throw fail(.malformedComment) }
                index += 3
                return
            }
            try skipCharacter()
        }
    }

    /// `<?target data?>`, except the reserved `xml` target (a misplaced declaration).
    private mutating func skipProcessingInstruction() throws(Failure) {
        index += 2
        guard let target = try scanName() else { throw fail(.malformedProcessingInstruction) }
        let name = bytes[target]
        guard !(name.count == 3 && String(decoding: name, as: UTF8.self).lowercased() == "xml"),
            !name.contains(UInt8(ascii: ":"))
        else { throw fail(.malformedProcessingInstruction) }
        if !starts(with: "?>") {
            guard skipWhitespace() else { throw fail(.malformedProcessingInstruction) }
        }
        while true {
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            if bytes[index] == UInt8(ascii: "?"), starts(with: "?>") {
                index += 2
                return
            }
            try skipCharacter()
        }
    }

    // MARK: - Elements

    private mutating func startElement() throws(Failure) -> Event {
        guard openElements.count < maximumDepth else { throw fail(.tooDeep) }
        index += 1
        guard let nameRange = try scanName() else { throw fail(.malformedName) }
        var attributes: [String: String] = [:]
        var order: [String] = []
        while true {
            let spaced = skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            if bytes[index] == UInt8(ascii: ">") {
                index += 1
                break
            }
            if bytes[index] == UInt8(ascii: "/") {
                guard starts(with: "/>") else { throw fail(.malformedTag) }
                index += 2
                selfClosed = true
                break
            }
            guard spaced, let attributeRange = try scanName() else { throw fail(.malformedTag) }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { throw fail(.malformedTag) }
            index += 1
            skipWhitespace()
            let name = String(decoding: bytes[attributeRange], as: UTF8.self)
            let value = try attributeValue()
            guard attributes.updateValue(value, forKey: name) == nil else { throw fail(.duplicateAttribute) }
            order.append(name)
        }
        let name = String(decoding: bytes[nameRange], as: UTF8.self)
        let declared = try bindNamespaces(attributes, order: order)
        openElements.append(OpenElement(name: name, nameRange: nameRange, declaredPrefixes: declared))
        try checkNamespaces(element: name, attributes: order)
        return .startElement(name: name, attributes: attributes)
    }

    private mutating func endTag() throws(Failure) -> Event {
        let start = index
        index += 2
        guard let nameRange = try scanName() else { throw fail(.malformedName) }
        skipWhitespace()
        guard index < bytes.count else { throw fail(.unexpectedEnd) }
        guard bytes[index] == UInt8(ascii: ">") else { throw fail(.malformedTag) }
        index += 1
        guard let open = openElements.last, bytes[nameRange].elementsEqual(bytes[open.nameRange]) else {
            throw Failure(reason: .mismatchedEndTag, offset: start)
        }
        return endElement()
    }

    private mutating func endElement() -> Event {
        let open = openElements.removeLast()
        for prefix in open.declaredPrefixes {
            namespaces[prefix]?.removeLast()
        }
        if openElements.isEmpty { phase = .epilog }
        return .endElement(name: open.name)
    }

    /// A quoted value: references decoded, `<` refused, each whitespace character made a space.
    private mutating func attributeValue() throws(Failure) -> String {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
            throw fail(.malformedTag)
        }
        let quote = bytes[index]
        index += 1
        buffer.removeAll(keepingCapacity: true)
        while true {
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            switch bytes[index] {
            case quote:
                index += 1
                return String(decoding: buffer, as: UTF8.self)
            case UInt8(ascii: "<"):
                throw fail(.lessThanInAttributeValue)
            case UInt8(ascii: "&"):
                try appendReference()
            case 0x0D:
                // A CR LF pair is one line end, so one space.
                index += followedByLineFeed() ? 2 : 1
                buffer.append(0x20)
            case 0x09, 0x0A:
                index += 1
                buffer.append(0x20)
            default:
                try appendCharacter()
            }
        }
    }

    // MARK: - Namespaces

    /// Binds the element's `xmlns:p` declarations (returning the prefixes bound) after the checks
    /// libxml2 made; its errors and its relative-default-namespace warning all made the report unusable.
    private mutating func bindNamespaces(_ attributes: [String: String], order: [String]) throws(Failure) -> [String] {
        var declared: [String] = []
        for name in order {
            let value = attributes[name] ?? ""
            if name == "xmlns" {
                guard value.isEmpty || (Self.isURIReference(value) && Self.hasScheme(value)) else {
                    throw fail(.malformedNamespace)
                }
            } else if name.hasPrefix("xmlns:") {
                let prefix = String(name.dropFirst(6))
                guard !prefix.isEmpty, !prefix.contains(":"), !value.isEmpty, prefix != "xmlns",
                    (prefix == "xml") == (value == Self.xmlNamespace), Self.isURIReference(value)
                else { throw fail(.malformedNamespace) }
                if prefix != "xml" {
                    namespaces[prefix, default: []].append(value)
                    declared.append(prefix)
                }
            }
        }
        return declared
    }

    /// Every prefix bound, every QName well formed, no two attributes with one expanded name.
    private func checkNamespaces(element: String, attributes: [String]) throws(Failure) {
        _ = try namespace(of: element)
        var expandedNames: Set<String> = []
        for name in attributes where name != "xmlns" && !name.hasPrefix("xmlns:") {
            guard let uri = try namespace(of: name) else { continue }
            guard expandedNames.insert("\(uri) \(name.drop { $0 != ":" })").inserted else {
                throw fail(.duplicateAttribute)
            }
        }
    }

    /// The URI bound to the QName's prefix, nil when it has none.
    private func namespace(of qualifiedName: String) throws(Failure) -> String? {
        let parts = qualifiedName.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts.contains(where: \.isEmpty) else { throw fail(.malformedNamespace) }
        guard parts.count == 2 else { return nil }
        guard let uri = namespaces[String(parts[0])]?.last else { throw fail(.undeclaredPrefix) }
        return uri
    }

    /// libxml2's URI parser refused spaces, non-ASCII and bad `%` escapes; this checks characters,
    /// not the full RFC 3986 grammar.
    private static func isURIReference(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, bytes[index + 1].isHexDigit, bytes[index + 2].isHexDigit else {
                    return false
                }
                index += 3
                continue
            }
            guard isASCIILetterOrDigit(byte) || uriPunctuation.contains(byte) else {
                return false
            }
            index += 1
        }
        return true
    }

    /// `scheme:`, which makes a URI absolute.
    private static func hasScheme(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0, bytes[0].isASCIILetter else {
            return false
        }
        return bytes[1..<colon].allSatisfy { isASCIILetterOrDigit($0) || $0 == 0x2B || $0 == 0x2E || $0 == 0x2D }
    }

    // MARK: - Character data

    private mutating func text() throws(Failure) -> Event {
        buffer.removeAll(keepingCapacity: true)
        while index < bytes.count, bytes[index] != UInt8(ascii: "<") {
            switch bytes[index] {
            case UInt8(ascii: "&"):
                try appendReference()
            case UInt8(ascii: "]") where starts(with: "]]>"):
                throw fail(.cdataEndInText)
            case 0x0D:
                // CR LF and a lone CR are both one line feed, as XML requires.
                index += followedByLineFeed() ? 2 : 1
                buffer.append(0x0A)
            default:
                try appendCharacter()
            }
        }
        return .text(String(decoding: buffer, as: UTF8.self))
    }

    /// `<![CDATA[ … ]]>`, its content kept as written (libxml2 did not normalize line ends in it).
    private mutating func cdata() throws(Failure) -> Event {
        index += 9
        let start = index
        while true {
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            if bytes[index] == UInt8(ascii: "]"), starts(with: "]]>") { break }
            try skipCharacter()
        }
        let content = String(decoding: bytes[start..<index], as: UTF8.self)
        index += 3
        return .cdata(content)
    }

    /// `&lt;` `&gt;` `&amp;` `&apos;` `&quot;` `&#NN;` `&#xNN;`; any other name is undeclared.
    private mutating func appendReference() throws(Failure) {
        index += 1
        if index < bytes.count, bytes[index] == UInt8(ascii: "#") {
            index += 1
            let hex = index < bytes.count && bytes[index] == UInt8(ascii: "x")
            if hex { index += 1 }
            var value = 0
            var digits = 0
            while index < bytes.count, let digit = Self.digitValue(bytes[index], hex: hex) {
                // Capped past the largest code point, so no overflow however many digits.
                value = min(value * (hex ? 16 : 10) + digit, 0x11_0000)
                digits += 1
                index += 1
            }
            guard digits > 0, index < bytes.count, bytes[index] == UInt8(ascii: ";") else {
                throw fail(.malformedReference)
            }
            index += 1
            guard Self.isXMLCharacter(UInt32(value)), let scalar = Unicode.Scalar(UInt32(value)) else {
                throw fail(.invalidCharacter)
            }
            UTF8.encode(scalar) { buffer.append($0) }
            return
        }
        guard let nameRange = try scanName() else { throw fail(.malformedReference) }
        guard index < bytes.count, bytes[index] == UInt8(ascii: ";") else { throw fail(.malformedReference) }
        index += 1
        switch String(decoding: bytes[nameRange], as: UTF8.self) {
        case "lt": buffer.append(UInt8(ascii: "<"))
        case "gt": buffer.append(UInt8(ascii: ">"))
        case "amp": buffer.append(UInt8(ascii: "&"))
        case "apos": buffer.append(UInt8(ascii: "'"))
        case "quot": buffer.append(UInt8(ascii: "\""))
        default: throw fail(.undeclaredEntity)
        }
    }

    /// Appends the character at `index` after checking it, and moves past it.
    private mutating func appendCharacter() throws(Failure) {
        let start = index
        try skipCharacter()
        buffer.append(contentsOf: bytes[start..<index])
    }

    /// Moves past the character at `index`: well-formed UTF-8 encoding an XML `Char`.
    private mutating func skipCharacter() throws(Failure) {
        let byte = bytes[index]
        if byte < 0x80 {
            guard byte >= 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else { throw fail(.invalidCharacter) }
            index += 1
        } else {
            index += try decodeScalar().length
        }
    }

    // MARK: - Names and bytes

    /// A `Name` at `index` (XML 1.0 fifth edition), nil when none starts there.
    private mutating func scanName() throws(Failure) -> Range<Int>? {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            let isStart = index == start
            if byte < 0x80 {
                guard Self.isASCIINameCharacter(byte, first: isStart) else { break }
                index += 1
            } else {
                let (value, length) = try decodeScalar()
                guard Self.isNonASCIINameCharacter(value, first: isStart) else {
                    if isStart { return nil }
                    throw fail(.malformedName)
                }
                index += length
            }
        }
        return index > start ? start..<index : nil
    }

    /// The scalar of the multi-byte sequence at `index`, refusing overlong forms, surrogates,
    /// truncation and the non-characters XML excludes.
    private func decodeScalar() throws(Failure) -> (value: UInt32, length: Int) {
        let lead = bytes[index]
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        let length: Int
        var value: UInt32
        switch lead {
        case 0xC2...0xDF:
            length = 2
            value = UInt32(lead & 0x1F)
        case 0xE0...0xEF:
            length = 3
            value = UInt32(lead & 0x0F)
            if lead == 0xE0 { lower = 0xA0 }
            if lead == 0xED { upper = 0x9F }
        case 0xF0...0xF4:
            length = 4
            value = UInt32(lead & 0x07)
            if lead == 0xF0 { lower = 0x90 }
            if lead == 0xF4 { upper = 0x8F }
        default:
            throw fail(.invalidUTF8)
        }
        guard index + length <= bytes.count else { throw fail(.invalidUTF8) }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard (offset == 1 ? lower : 0x80) <= byte, byte <= (offset == 1 ? upper : 0xBF) else {
                throw fail(.invalidUTF8)
            }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        guard Self.isXMLCharacter(value) else { throw fail(.invalidCharacter) }
        return (value, length)
    }

    private func starts(with prefix: String) -> Bool {
        starts(with: Array(prefix.utf8))
    }

    /// The CR at `index` is the first half of a CR LF pair.
    private func followedByLineFeed() -> Bool {
        index + 1 < bytes.count && bytes[index + 1] == 0x0A
    }

    private func starts(with prefix: [UInt8]) -> Bool {
        index + prefix.count <= bytes.count && bytes[index..<(index + prefix.count)].elementsEqual(prefix)
    }

    /// Skips XML whitespace; says whether there was any.
    @discardableResult
    private mutating func skipWhitespace() -> Bool {
        let start = index
        while index < bytes.count, isWhitespace(bytes[index]) { index += 1 }
        return index > start
    }

    private func fail(_ reason: Failure.Reason) -> Failure {
        Failure(reason: reason, offset: index)
    }

    private static func isXMLCharacter(_ value: UInt32) -> Bool {
        switch value {
        case 0x09, 0x0A, 0x0D, 0x20...0xD7FF, 0xE000...0xFFFD, 0x1_0000...0x10_FFFF: true
        default: false
        }
    }

    private static func isASCIINameCharacter(_ byte: UInt8, first: Bool) -> Bool {
        if byte.isASCIILetter || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") { return true }
        return !first && (isASCIIDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "."))
    }

    /// `NameStartChar` and `NameChar` above U+007F.
    private static func isNonASCIINameCharacter(_ value: UInt32, first: Bool) -> Bool {
        switch value {
        case 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x2FF, 0x370...0x37D, 0x37F...0x1FFF, 0x200C...0x200D,
            0x2070...0x218F, 0x2C00...0x2FEF, 0x3001...0xD7FF, 0xF900...0xFDCF, 0xFDF0...0xFFFD, 0x1_0000...0xE_FFFF:
            return true
        case 0xB7, 0x300...0x36F, 0x203F...0x2040:
            return !first
        default:
            return false
        }
    }

    private static func digitValue(_ byte: UInt8, hex: Bool) -> Int? {
        if isASCIIDigit(byte) { return Int(byte - UInt8(ascii: "0")) }
        guard hex else { return nil }
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }
}

private func isWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
}

private func isASCIIDigit(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
}

private func isASCIILetterOrDigit(_ byte: UInt8) -> Bool {
    byte.isASCIILetter || isASCIIDigit(byte)
}

extension UInt8 {
    fileprivate var isASCIILetter: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
    }

    fileprivate var isHexDigit: Bool {
        isASCIIDigit(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
