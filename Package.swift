// swift-tools-version: 6.1
import PackageDescription

// One set of settings for every Swift target, as swift-subprocess and Hummingbird do.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "flakebox",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "flakebox", targets: ["flakebox"]),
        .executable(name: "flakebox-sandbox", targets: ["flakebox-sandbox"]),
        .library(name: "FlakeboxSandbox", targets: ["FlakeboxSandbox"]),
        .library(name: "FlakeboxCore", targets: ["FlakeboxCore"]),
        .library(name: "FlakeboxJobs", targets: ["FlakeboxJobs"]),
    ],
    // The RunPod worker brings the server stack (NIO, Hummingbird, AsyncHTTPClient, BoringSSL):
    // minutes of a first build that the CLI alone never uses. `--disable-default-traits` builds
    // the CLI without it; the image, CI and the tests build everything.
    traits: [
        .trait(name: "Worker", description: "`flakebox worker`: RunPod's worker protocol and the local API."),
        .trait(
            name: "Service",
            description: "`flakebox serve`: the self-hosted service (SQLite or PostgreSQL, metrics, webhooks)."),
        .default(enabledTraits: ["Worker", "Service"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The RunPod worker only: its HTTP client (TLS to api.runpod.ai) and the local API server.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        // The self-hosted service only: its job database, API keys, metrics and lifecycle.
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // `flakebox serve --database postgres://…`: several service nodes on one database.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // libseccomp, as Debian ships it (libseccomp-dev); only the supervisor links it.
        .systemLibrary(
            name: "CSeccomp",
            pkgConfig: "libseccomp",
            providers: [.apt(["libseccomp-dev"])]
        ),
        // Small C wrappers for what Swift's Glibc module hides (posix_spawn close-from, pidfd, memfd).
        .target(name: "CFlakeboxSpawn", cSettings: [.define("_GNU_SOURCE")]),
        // The per-attempt launcher: the only code that runs between clone and execve. C only.
        .executableTarget(
            name: "flakebox-sandbox",
            cSettings: [.define("_GNU_SOURCE"), .unsafeFlags(["-Wall", "-Wextra", "-Werror"])],
            // SwiftPM links every executable with swiftc, which adds the Swift runtime; the helper
            // uses none of it, and must not load it into the sandbox's PID 1 (nor pay its startup).
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        .target(
            name: "FlakeboxSandbox",
            dependencies: ["CSeccomp", "CFlakeboxSpawn"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlakeboxCore",
            dependencies: ["FlakeboxSandbox", "CFlakeboxSpawn"],
            swiftSettings: swiftSettings
        ),
        // The transport-neutral job service: queue, store interface, cancellation, progress and
        // results. The worker's local API and `flakebox serve` are adapters over it; no server
        // dependency here.
        .target(
            name: "FlakeboxJobs",
            dependencies: ["FlakeboxCore", "FlakeboxSandbox"],
            swiftSettings: swiftSettings
        ),
        // RunPod's worker protocol over the job service.
        .target(
            name: "FlakeboxWorker",
            dependencies: [
                "FlakeboxJobs",
                "FlakeboxCore",
                "FlakeboxSandbox",
                "CFlakeboxSpawn",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
            ],
            swiftSettings: swiftSettings
        ),
        // `flakebox serve`: RunPod's endpoint API over the job service, for untrusted repositories.
        .target(
            name: "FlakeboxService",
            dependencies: [
                "FlakeboxJobs",
                "FlakeboxCore",
                "FlakeboxSandbox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FlakeboxCommands",
            dependencies: [
                "CFlakeboxSpawn",
                "FlakeboxCore",
                .target(name: "FlakeboxWorker", condition: .when(traits: ["Worker"])),
                .target(name: "FlakeboxService", condition: .when(traits: ["Service"])),
                "FlakeboxSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "flakebox",
            dependencies: [
                "FlakeboxCommands",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The parsers that read hostile bytes, for libFuzzer (`scripts/fuzz.sh`), or replaying
        // files in an ordinary build (the committed corpora, in the tests).
        .executableTarget(
            name: "flakebox-fuzz",
            dependencies: ["FlakeboxCore", "FlakeboxSandbox", "FlakeboxJobs"],
            swiftSettings: swiftSettings
        ),
        // What more than one test target uses (a git repository made for a test).
        .target(
            name: "FlakeboxTestSupport",
            dependencies: ["FlakeboxCore", "FlakeboxSandbox"],
            path: "Tests/FlakeboxTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlakeboxCoreTests",
            dependencies: [
                "FlakeboxCore", "FlakeboxSandbox", "FlakeboxTestSupport", "flakebox-sandbox", "flakebox",
                "flakebox-fuzz",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlakeboxWorkerTests",
            dependencies: [
                "FlakeboxWorker", "FlakeboxJobs", "FlakeboxCore", "FlakeboxSandbox", "FlakeboxTestSupport",
                "flakebox-sandbox",
                "flakebox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlakeboxServiceTests",
            dependencies: [
                "FlakeboxService", "FlakeboxJobs", "FlakeboxCore", "FlakeboxSandbox", "FlakeboxTestSupport",
                "flakebox-sandbox", "flakebox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FlakeboxSandboxTests",
            dependencies: ["FlakeboxSandbox", "FlakeboxTestSupport", "flakebox-sandbox", "flakebox"],
            swiftSettings: swiftSettings
        ),
    ]
)
