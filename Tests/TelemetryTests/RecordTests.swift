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
