import Telemetry
import Testing

/// The stream record of a reading, as the ingestion path writes it: once per payload for what its readings
/// share, then per reading. Readers decode it with `TelemetryReading(record:)`.
@Suite("Stream records")
struct RecordTests {
    static let payloads = [
        #"{"v":1,"boot":"7f3a","seq":1234,"ts_ms":1764165600010,"water_c":61.25}"#,
        #"{"v":1,"boot":"7f3a","seq":1234,"ts_ms":1764165600010,"water_c":61.25,"return_c":48.5,"burner_pct":42}"#,
        #"{"v":1,"boot":"b","seq":10,"ts_ms":1000,"period_ms":10,"water_c":[60,60.5,61],"outdoor_c":-4,"room_c":[20,20.1,20.2]}"#,
        #"{"v":1,"boot":"0123456789abcdef0123456789abcdef","seq":0,"ts_ms":5,"period_ms":250,"water_c":[1,2,3,4],"return_c":[5,6,7,8],"room_c":21,"outdoor_c":[-1,-2,-3,-4],"burner_pct":[0,50,100,25]}"#,
        #"{"v":1,"boot":"z","seq":99,"ts_ms":7,"period_ms":10,"water_c":[70,71]}"#,
    ]

    /// One buffer for every payload in turn, as the ingestion path reuses it: each record must be exactly the bytes
    /// the reading itself writes, whatever the payload before it left there, and read back as that reading.
    @Test("a payload's records are the bytes its readings write, and read back as them")
    func payloadRecordsMatchReadings() throws {
        let decoder = TelemetryDecoder()
        let shared = UnsafeMutableRawBufferPointer.allocate(byteCount: TelemetryReading.maximumRecordSize, alignment: 8)
        let single = UnsafeMutableRawBufferPointer.allocate(byteCount: TelemetryReading.maximumRecordSize, alignment: 8)
        defer { shared.deallocate(); single.deallocate() }
        shared.initializeMemory(as: UInt8.self, repeating: 0xA5)
        var records = 0
        for text in Self.payloads {
            let payload = try decoder.decode(text)
            let template = payload.prepareRecords(into: shared)
            for index in 0..<payload.count {
                let length = payload.writeRecord(index, template: template, into: shared)
                single.initializeMemory(as: UInt8.self, repeating: 0)
                let expectedLength = payload[index].writeRecord(into: single)
                #expect(length == expectedLength, "\(text) [\(index)]")
                #expect(Array(shared[0..<length]) == Array(single[0..<expectedLength]), "\(text) [\(index)]")
                #expect(TelemetryReading(record: UnsafeRawBufferPointer(rebasing: shared[0..<length])) == payload[index], "\(text) [\(index)]")
                records += 1
            }
        }
        #expect(records == 11)
    }
}

/// The run record: the new readings of one payload as one stream message (stream storage `message`).
@Suite("Run records")
struct RunRecordTests {
    /// Every run of every example payload reads back as exactly those readings, into a buffer that held other
    /// bytes before; its size is the one announced.
    @Test("every run of a payload reads back as its readings, in order")
    func runsReadBackAsTheirReadings() throws {
        let decoder = TelemetryDecoder()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        var runs = 0
        for text in RecordTests.payloads {
            let payload = try decoder.decode(text)
            for start in 0..<payload.count {
                for end in (start + 1)...payload.count {
                    buffer.initializeMemory(as: UInt8.self, repeating: 0xA5)
                    let length = payload.writeRunRecord(start..<end, into: buffer)
                    #expect(length == payload.runRecordSize(count: end - start), "\(text) \(start)..<\(end)")
                    let record = UnsafeRawBufferPointer(rebasing: buffer[0..<length])
                    let expected = (start..<end).map { payload[$0] }
                    #expect(TelemetryReading.readings(record: record) == expected, "\(text) \(start)..<\(end)")
                    #expect(TelemetryReading(lastOf: record) == expected.last, "\(text) \(start)..<\(end)")
                    // Not a reading's record: a reader of those alone gets nil, not a wrong reading.
                    #expect(TelemetryReading(record: record) == nil)
                    runs += 1
                }
            }
        }
        #expect(runs == 1 + 1 + 6 + 10 + 3)
    }

    @Test("a reading's record reads as one reading by both readers")
    func readingRecordsReadAsOne() throws {
        let payload = try TelemetryDecoder().decode(RecordTests.payloads[1])
        let record = payload[0].record
        try record.withUnsafeBytes { bytes in
            #expect(TelemetryReading.readings(record: bytes) == [payload[0]])
            #expect(TelemetryReading(lastOf: bytes) == payload[0])
            _ = try #require(TelemetryReading(lastOf: bytes))
        }
    }

    /// Damaged run records (each field broken in turn) are refused by both readers, never read as something.
    @Test("a damaged run record is no record")
    func damagedRunRecordsAreRefused() throws {
        let payload = try TelemetryDecoder().decode(RecordTests.payloads[2])
        var good = [UInt8](repeating: 0, count: payload.runRecordSize(count: 3))
        _ = good.withUnsafeMutableBytes { payload.writeRunRecord(0..<3, into: $0) }
        var damaged: [(String, [UInt8])] = []
        func with(_ name: String, _ change: (inout [UInt8]) -> Void) {
            var bytes = good
            change(&bytes)
            damaged.append((name, bytes))
        }
        with("version 3") { $0[0] = 3 }
        with("unknown flag") { $0[1] |= 16 }
        with("boot length 0") { $0[2] = 0 }
        with("boot length 33") { $0[2] = 33 }
        with("boot not an identifier") { $0[40] = UInt8(ascii: " ") }
        with("count 0") { $0[32] = 0 }
        with("count 4, the arrays of 3") { $0[32] = 4 }
        with("count past the largest batch") { $0[33] = 0x10 }
        with("one byte short") { $0.removeLast() }
        with("one byte long") { $0.append(0) }
        with("only the header") { $0.removeLast($0.count - 72) }
        for (name, bytes) in damaged {
            bytes.withUnsafeBytes { record in
                #expect(TelemetryReading.readings(record: record) == nil, "\(name)")
                #expect(TelemetryReading(lastOf: record) == nil, "\(name)")
            }
        }
        good.withUnsafeBytes { #expect(TelemetryReading.readings(record: $0)?.count == 3) }
    }
}
