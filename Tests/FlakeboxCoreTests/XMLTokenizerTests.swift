import FlakeboxTestSupport
import Testing

@testable import FlakeboxCore

@Suite("XMLTokenizer: strict XML for untrusted JUnit reports")
struct XMLTokenizerTests {
    typealias Event = XMLTokenizer.Event
    typealias Outcome = Result<[Event], XMLTokenizer.Failure>

    /// Every event of `xml`, or the failure that ended it.
    static func tokenize(_ xml: [UInt8], maximumDepth: Int = XMLTokenizer.defaultMaximumDepth) -> Outcome {
        var tokenizer = XMLTokenizer(xml, maximumDepth: maximumDepth)
        var events: [Event] = []
        do {
            while let event = try tokenizer.next() { events.append(event) }
            return .success(events)
        } catch {
            return .failure(error)
        }
    }

    static func tokenize(_ xml: String) -> Outcome {
        tokenize(Array(xml.utf8))
    }

    static func events(_ xml: String) throws -> [Event] {
        try tokenize(xml).get()
    }

    static func reason(_ xml: [UInt8]) -> XMLTokenizer.Failure.Reason? {
        if case .failure(let failure) = tokenize(xml) { return failure.reason }
        return nil
    }

    static func reason(_ xml: String) -> XMLTokenizer.Failure.Reason? {
        reason(Array(xml.utf8))
    }

    /// The decoded text of a document's events, CDATA included.
    static func text(_ xml: String) throws -> String {
        try events(xml).map { event in
            switch event {
            case .text(let text), .cdata(let text): text
            default: ""
            }
        }.joined()
    }

    @Test func predefinedEntitiesAndNumericReferencesAreDecoded() throws {
        #expect(try Self.text("<a>&lt;&gt;&amp;&apos;&quot;</a>") == "<>&'\"")
        #expect(try Self.text("<a>&#60;b&#x3e;&#x3E; &#128512;&#x1F600;</a>") == "<b>> 😀😀")
        #expect(try Self.text("<a>tab&#9;lf&#10;cr&#13;</a>") == "tab\tlf\ncr\r")
    }

    @Test func cdataIsReportedAsWritten() throws {
        #expect(
            try Self.events("<a>x<![CDATA[<b>&amp; ]] ]></b>]]>y</a>") == [
                .startElement(name: "a", attributes: [:]), .text("x"), .cdata("<b>&amp; ]] ]></b>"), .text("y"),
                .endElement(name: "a"),
            ])
        #expect(try Self.text("<a><![CDATA[]]></a>") == "")
    }

    @Test func declarationCommentsProcessingInstructionsAndDoctypeAreSkipped() throws {
        let xml = """
            \u{FEFF}<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <!-- before --><?xml-stylesheet href="s.css"?>
            <!DOCTYPE testsuite SYSTEM "junit.dtd">
            <a><!-- inside - still --><?pi?><?pi data?>x</a>
            <!-- after --><?pi after?>

            """
        #expect(
            try Self.events(xml) == [
                .startElement(name: "a", attributes: [:]), .text("x"), .endElement(name: "a"),
            ])
        #expect(try Self.events("<!DOCTYPE a PUBLIC \"-//x//EN\" 'a.dtd' [ ]><a/>").count == 2)
        #expect(try Self.events("<?xml version='1.0' encoding='utf8' ?><a/>").count == 2)
    }

    @Test func attributesTakeEitherQuoteAndDecodeReferences() throws {
        let events = try Self.events(
            "<a one=\"1\" two='2' q='say \"hi\"' d=\"it's\" e=\"&lt;&amp;&#x41;\"\n\tws = \"a\tb\r\nc&#10;d\"/>")
        #expect(
            events == [
                .startElement(
                    name: "a",
                    attributes: [
                        "one": "1", "two": "2", "q": "say \"hi\"", "d": "it's", "e": "<&A", "ws": "a b c\nd",
                    ]),
                .endElement(name: "a"),
            ])
    }

    @Test func selfClosingTagsAndNestingMakeBalancedEvents() throws {
        #expect(
            try Self.events("<s><c n=\"1\"/><c><f/>t</c ></s>") == [
                .startElement(name: "s", attributes: [:]),
                .startElement(name: "c", attributes: ["n": "1"]), .endElement(name: "c"),
                .startElement(name: "c", attributes: [:]),
                .startElement(name: "f", attributes: [:]), .endElement(name: "f"),
                .text("t"), .endElement(name: "c"),
                .endElement(name: "s"),
            ])
    }

    @Test func lineEndsInTextBecomeLineFeeds() throws {
        #expect(try Self.text("<a>1\r\n2\r3\n</a>") == "1\n2\n3\n")
    }

    @Test func namespacesAreReportedWithPrefixesAndChecked() throws {
        let xml = "<r xmlns=\"urn:r\" xmlns:p=\"http://x/p\"><p:c p:k=\"v\" xml:lang=\"en\"/></r>"
        #expect(
            try Self.events(xml) == [
                .startElement(name: "r", attributes: ["xmlns": "urn:r", "xmlns:p": "http://x/p"]),
                .startElement(name: "p:c", attributes: ["p:k": "v", "xml:lang": "en"]), .endElement(name: "p:c"),
                .endElement(name: "r"),
            ])
    }

    @Test(arguments: [
        // Unclosed, mismatched, unbalanced.
        ("<a>", XMLTokenizer.Failure.Reason.unexpectedEnd),
        ("<a><b></a></b>", .mismatchedEndTag),
        ("<a>x</b>", .mismatchedEndTag),
        ("</a>", .noRootElement),
        ("<a", .unexpectedEnd),
        ("<a b=\"1", .unexpectedEnd),
        ("<a><!-- x", .unexpectedEnd),
        ("<a><![CDATA[x]]", .unexpectedEnd),
        // Bad references.
        ("<a>&nbsp;</a>", .undeclaredEntity),
        ("<a>&amp</a>", .malformedReference),
        ("<a>& lt;</a>", .malformedReference),
        ("<a>&#x;</a>", .malformedReference),
        ("<a>&#X41;</a>", .malformedReference),
        ("<a>&#65</a>", .malformedReference),
        ("<a>&#0;</a>", .invalidCharacter),
        ("<a>&#xD800;</a>", .invalidCharacter),
        ("<a>&#xFFFE;</a>", .invalidCharacter),
        ("<a>&#99999999999999999999999;</a>", .invalidCharacter),
        ("<a b=\"&bogus;\"/>", .undeclaredEntity),
        // Bad tags and attributes.
        ("<a b=\"<\"/>", .lessThanInAttributeValue),
        ("<a b=x/>", .malformedTag),
        ("<a b/>", .malformedTag),
        ("<a b=\"1\"c=\"2\"/>", .malformedTag),
        ("<a b=\"1\" b=\"2\"/>", .duplicateAttribute),
        ("<a/ >", .malformedTag),
        ("< a/>", .malformedName),
        ("<1a/>", .malformedName),
        ("<a×/>", .malformedName),
        ("<a><!foo></a>", .malformedTag),
        ("<a>x]]>y</a>", .cdataEndInText),
        // Around the root.
        ("", .noRootElement),
        ("   ", .noRootElement),
        ("<!-- only a comment -->", .noRootElement),
        ("text<a/>", .noRootElement),
        ("<a/>text", .contentAfterRoot),
        ("<a/>&amp;", .contentAfterRoot),
        ("<a/><b/>", .contentAfterRoot),
        ("<a></a></a>", .contentAfterRoot),
        ("<a/><!DOCTYPE a>", .contentAfterRoot),
        ("<!DOCTYPE a><!DOCTYPE a><a/>", .malformedDoctype),
        ("<a><!DOCTYPE a></a>", .malformedTag),
        // Comments, processing instructions, the declaration.
        ("<a><!-- x -- y --></a>", .malformedComment),
        ("<a><!-- x ---></a>", .malformedComment),
        ("<a><?xml version=\"1.0\"?></a>", .malformedProcessingInstruction),
        ("<?XmL x?><a/>", .malformedProcessingInstruction),
        (" <?xml version=\"1.0\"?><a/>", .malformedProcessingInstruction),
        ("<?xml version=\"1.1\"?><a/>", .malformedDeclaration),
        ("<?xml encoding=\"UTF-8\"?><a/>", .malformedDeclaration),
        ("<?xml version=\"1.0\"standalone=\"yes\"?><a/>", .malformedDeclaration),
        ("<?xml version=\"1.0\" standalone=\"maybe\"?><a/>", .malformedDeclaration),
        ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", .unsupportedEncoding),
        // Namespaces.
        ("<x:a/>", .undeclaredPrefix),
        ("<a b:c=\"1\"/>", .undeclaredPrefix),
        ("<a:b:c xmlns:a=\"urn:x\"/>", .malformedNamespace),
        ("<a xmlns:x=\"\"/>", .malformedNamespace),
        ("<a xmlns=\"relative\"/>", .malformedNamespace),
        ("<a xmlns:p=\"not a uri\"/>", .malformedNamespace),
        ("<a xmlns:p=\"urn:a\" xmlns:q=\"urn:a\" p:x=\"1\" q:x=\"2\"/>", .duplicateAttribute),
        ("<a><b xmlns:p=\"urn:p\"/><p:c/></a>", .undeclaredPrefix),
        // Control characters.
        ("<a>\u{1}</a>", .invalidCharacter),
        ("<a>\u{0}</a>", .invalidCharacter),
        ("<a><![CDATA[\u{1}]]></a>", .invalidCharacter),
        ("<a b=\"\u{1}\"/>", .invalidCharacter),
        ("\u{0}\u{1}\u{2}<<<>>>&&&", .noRootElement),
    ])
    func malformedDocumentsFailWithAReason(xml: String, reason: XMLTokenizer.Failure.Reason) {
        #expect(Self.reason(xml) == reason, "\(xml.debugDescription)")
    }

    @Test(
        arguments: [
            [0xFF], [0xC0, 0xAF], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            [0xF8, 0x88, 0x80, 0x80, 0x80],
        ] as [[UInt8]])
    func bytesThatAreNotUTF8FailWhereverTheyAre(bad: [UInt8]) {
        for (before, after) in [
            ("<a>", "</a>"), ("<a b=\"", "\"/>"), ("<a><!--", "--></a>"), ("<a><![CDATA[", "]]></a>"),
        ] {
            let xml = Array(before.utf8) + bad + Array(after.utf8)
            #expect(Self.reason(xml) == .invalidUTF8, "\(before) \(bad)")
        }
        #expect(Self.reason(Array("<a/><!--".utf8) + bad + Array("-->".utf8)) == .invalidUTF8)
        #expect(Self.reason(Array("<a>".utf8) + [0xEF, 0xBF, 0xBE] + Array("</a>".utf8)) == .invalidCharacter)
    }

    @Test func aDoctypeWithDeclarationsIsRefusedBeforeAnyExpansion() {
        let laughs = """
            <?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
            <testsuite><testcase name="&lol2;"/></testsuite>
            """
        #expect(Self.reason(laughs) == .internalSubset)
        #expect(Self.reason("<!DOCTYPE a [<!ELEMENT a ANY>]><a/>") == .internalSubset)
        #expect(Self.reason("<!DOCTYPE a SYSTEM \"x.dtd\"><a>&external;</a>") == .undeclaredEntity)
    }

    @Test func nestingIsCappedWithoutRecursion() throws {
        func nested(_ depth: Int) -> [UInt8] {
            Array((String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth)).utf8)
        }
        let deepest = try Self.tokenize(nested(XMLTokenizer.defaultMaximumDepth)).get()
        #expect(deepest.count == 2 * XMLTokenizer.defaultMaximumDepth)
        #expect(Self.reason(nested(XMLTokenizer.defaultMaximumDepth + 1)) == .tooDeep)
        // Far past any stack a recursive parser would have: still one bounded error.
        #expect(Self.reason(nested(200_000)) == .tooDeep)
        #expect(throws: XMLTokenizer.Failure.self) { try Self.tokenize(nested(5), maximumDepth: 4).get() }
    }

    @Test func theFirstErrorIsFinal() throws {
        var tokenizer = XMLTokenizer(Array("<a><b></c><d/></a>".utf8))
        #expect(try tokenizer.next() == .startElement(name: "a", attributes: [:]))
        #expect(try tokenizer.next() == .startElement(name: "b", attributes: [:]))
        let first = #expect(throws: XMLTokenizer.Failure.self) { try tokenizer.next() }
        let second = #expect(throws: XMLTokenizer.Failure.self) { try tokenizer.next() }
        #expect(first == second && first?.reason == .mismatchedEndTag && first?.offset == 6)
    }

    @Test func aLargeReportIsParsedCompletely() async throws {
        // Long runs of text, attributes and CDATA: a quadratic step would show as a hang here.
        let message = String(repeating: "x &amp; y ", count: 5000)
        let count = 20_000
        var xml = "<?xml version=\"1.0\"?><testsuites><testsuite name=\"big\">"
        for index in 0..<count {
            xml += "<testcase classname=\"pkg.C\" name=\"t\(index)\" time=\"0.001\">"
            xml += index % 1000 == 0 ? "<failure message=\"m\">\(message)<![CDATA[\(message)]]></failure>" : ""
            xml += "</testcase>\n"
        }
        xml += "</testsuite></testsuites>"
        // Seconds of work in a debug build: on a thread of its own, not one of the cooperative
        // pool's two, which every other test of the run waits for.
        let parsed = await onOwnThread { [xml] in (Self.tokenize(xml), JUnitReport.parse(Array(xml.utf8))) }
        let events = try parsed.0.get()
        #expect(events.count(where: { $0 == .endElement(name: "testcase") }) == count)
        #expect(events.contains(.text(String(repeating: "x & y ", count: 5000))))
        let report = try #require(parsed.1)
        #expect(report.testCases.count == count && !report.truncated)
        #expect(report.testCases.filter { $0.outcome == .failed }.count == count / 1000)
        #expect(report.testCases[0].message == "m")
    }

    @Test func aReportStopsAtItsLimitBeforeLaterErrors() throws {
        let cases = (0..<10).map { "<testcase name=\"t\($0)\"/>" }.joined()
        let xml = Array("<testsuite>\(cases)<broken".utf8)
        let report = try #require(JUnitReport.parse(xml, limits: .init(maximumTestCases: 5)))
        #expect(report.testCases.count == 5 && report.truncated)
        #expect(JUnitReport.parse(xml) == nil)
    }

    @Test func failureTextKeepsItsLimitAcrossTextAndCDATA() throws {
        let xml =
            "<s><testcase name=\"t\"><failure>\n  first line\n<![CDATA[\(String(repeating: "é", count: 5000))]]>"
            + "</failure></testcase></s>"
        let report = try #require(JUnitReport.parse(Array(xml.utf8), limits: .init(maximumMessageCharacters: 64)))
        var withoutTail = report.testCases
        for index in withoutTail.indices { withoutTail[index].failureTail = nil }
        #expect(withoutTail == [.init(id: "t", outcome: .failed, message: "first line")])
        #expect(report.testCases.first?.failureTail?.count == 4096)
        #expect(report.testCases.first?.failureTail?.hasSuffix("éé") == true)
    }
}
