import BoilerService

/// Hands a batch payload for `boiler` straight to the pipeline, as the MQTT network thread would.
public func feedBatch(_ pipeline: IngestPipeline, boiler: String, seq: Int, firstMs: Int64, values: [Double]) {
    var topic = "boilers/\(boiler)/telemetry"
    var payload = #"{"v":1,"boot":"a","seq":\#(seq),"ts_ms":\#(firstMs),"period_ms":10,"water_c":[\#(values.map { "\($0)" }.joined(separator: ","))]}"#
    topic.withUTF8 { topicBytes in payload.withUTF8 { pipeline.handle(topic: topicBytes, payload: $0) } }
}
