import FlakeboxCore
import Testing

@Suite("Summary: printed collections and flakebox's own lines")
struct SummaryCollectionMaskTests {
    @Test("a printed list in another order is the same line; a lone bracket is kept")
    func collections() {
        let a = OutputNormalizer.normalize(line: "E   AssertionError: core loaded too late: ['cache', 'auth', 'core']")
        let b = OutputNormalizer.normalize(line: "E   AssertionError: core loaded too late: ['auth', 'core', 'cache']")
        #expect(a != nil && a == b)
        #expect(OutputNormalizer.normalize(line: "x = {'a': 1, 'b': 2}") == "x = {…}")
        #expect(
            OutputNormalizer.normalize(line: "FAILED tests/t.py::test[param] - KeyError")
                == "FAILED tests/t.py::test[param] - KeyError")
    }

    @Test("pytest's line about flakebox's own JUnit file is dropped")
    func ownReport() {
        #expect(OutputNormalizer.normalize(line: "--- generated xml file: /workspace/.flakebox-junit.xml ---") == nil)
    }
}
