// ScenarioTests: `swift86 test Tests/Scenarios/*.scenario` — the fault-path regression suite.
import Foundation
import XCTest

final class ScenarioTests: XCTestCase {
    func testEveryScenarioPasses() throws {
        try Artifacts.require(Artifacts.swift86); try Artifacts.require(Artifacts.guest)
        let dir = Artifacts.root + "/Tests/Scenarios"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".scenario") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 20)
        let r = try Run.exec(Artifacts.swift86, ["test"] + files.map { "Tests/Scenarios/" + $0 }, timeout: 300)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("\(files.count) passed, 0 failed"), r.stdout)
    }

    /// A broken expectation fails with a readable report (the suite can fail).
    func testAFailingScenarioSaysWhy() throws {
        try Artifacts.require(Artifacts.swift86); try Artifacts.require(Artifacts.guest)
        let path = NSTemporaryDirectory() + "bad-\(getpid()).scenario"
        try """
        image \(Artifacts.guest)
        ram 1G
        append test=buddy
        expect-exit 1
        expect-line this line is never printed
        expect-count vector=14 == 12345
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try Run.exec(Artifacts.swift86, ["test", path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("FAIL \(path)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("no console line \"this line is never printed\""), r.stdout)
        XCTAssertTrue(r.stdout.contains("expect-count vector=14 == 12345: found"), r.stdout)
    }
}
