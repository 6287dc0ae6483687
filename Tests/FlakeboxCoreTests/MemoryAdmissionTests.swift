import Testing

@testable import FlakeboxCore

@Suite("Memory admission: parallelism within what the machine can give")
struct MemoryAdmissionTests {
    @Test("8 attempts of 2 GiB on 7 GiB available: 3 run at once, their budget within 90% of it")
    func lowered() throws {
        let admission = MemoryAdmission.admit(parallelism: 8, perAttempt: 2 << 30, available: 7 << 30)
        #expect(admission.parallelism == 3 && admission.requestedParallelism == 8 && admission.reduced)
        let budget = try #require(admission.budgetBytes)
        #expect(budget >= 3 * (2 << 30) && budget <= UInt64(Double(7 << 30) * 0.9))
        #expect(admission.note?.contains("parallelism 8 lowered to 3") == true, "\(admission.note ?? "")")
    }

    @Test("what fits is left alone; one attempt always runs, held to what the machine has")
    func fitsAndFloor() {
        let fits = MemoryAdmission.admit(parallelism: 2, perAttempt: 1 << 30, available: 16 << 30)
        #expect(fits.parallelism == 2 && !fits.reduced && fits.note == nil)
        #expect(fits.budgetBytes == 2 * (1 << 30) + MemoryAdmission.slackBytes)
        let tight = MemoryAdmission.admit(parallelism: 4, perAttempt: 2 << 30, available: 1 << 30)
        #expect(tight.parallelism == 1)
        #expect(tight.budgetBytes == UInt64(Double(1 << 30) * 0.9))
        let unlimited = MemoryAdmission.admit(parallelism: 4, perAttempt: nil, available: 1 << 30)
        #expect(unlimited.parallelism == 4 && unlimited.budgetBytes == nil)
    }
}
