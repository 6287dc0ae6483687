import Testing

/// Every suite inside runs real `flakebox worker` processes against a stand-in RunPod. One test
/// at a time: the machine has two cores, and several workers' attempts competing for them would
/// make the timing assertions (back-offs, cadences) measure the machine instead of the worker.
@Suite("flakebox worker (processes against a stand-in RunPod)", .serialized)
struct WorkerTests {}
