import Telemetry

/// The simulated fleet, as a pure generator: each call to `next(into:)` advances event time by one message period
/// (`batch` readings) for every boiler and says what to send, with the faults applied and the truth kept. No I/O
/// and no clock: the same configuration and seed give the same bytes, which is what makes the truth trustworthy
/// and the runs repeatable.
struct Fleet {
    struct Configuration: Sendable, Hashable {
        var boilers: Int = 10
        var periodMs: Int64 = 10
        var batch: Int = 1
        /// Event time of the first reading, ms since 1970.
        var startMs: Int64
        /// How much event time to simulate, ms.
        var durationMs: Int64
        var seed: UInt64 = 1
        /// Boiler ids are this prefix and a four-digit index: `b0000`, `b0001`, ...
        var idPrefix: String = "b"
        /// QoS 1: readings made while disconnected are kept and sent later. QoS 0: they are lost (and counted).
        var keepsWhileDisconnected: Bool = true
        var faults = FaultPlan()
    }

    /// What the runner must do, in order.
    enum Event: Equatable {
        /// Send this payload on the boiler's telemetry topic.
        case publish(boiler: Int, payload: [UInt8])
        /// Close the connection (the `disconnect` fault) ...
        case disconnect
        /// ... and open it again.
        case reconnect
    }

    /// A message held back by the `reorder` fault until after the boiler's next one.
    private struct Held {
        var payload: [UInt8]
        var duplicated: Bool
    }

    let configuration: Configuration
    let ids: [String]
    let boots: [String]
    private var models: [BoilerModel]
    private let skewMs: [Int64]
    private var faultRandom: SplitMix64
    private var held: [Held?]
    private var samples: [BoilerModel.Sample] = []
    private var writer = PayloadWriter()
    private var nextDisconnect = 0
    private var offlineUntilMs: Int64? = nil
    /// Messages (of `batch` readings each) made per boiler so far.
    private(set) var ticks: Int64 = 0
    let totalTicks: Int64
    private(set) var truth: GroundTruth
    private(set) var faults = FaultCounts()
    private(set) var readingsGenerated: UInt64 = 0
    private(set) var readingsDelivered: UInt64 = 0
    private(set) var messagesSent: UInt64 = 0

    init(configuration: Configuration) {
        self.configuration = configuration
        let count = configuration.boilers
        self.ids = (0..<count).map { Self.id(prefix: configuration.idPrefix, index: $0) }
        var models: [BoilerModel] = []
        var boots: [String] = []
        for index in 0..<count {
            var random = SplitMix64(seed: configuration.seed, stream: UInt64(index) + 1)
            boots.append(String(random.next() & 0xFFFF_FFFF, radix: 16))
            models.append(BoilerModel(random: random))
        }
        self.models = models
        self.boots = boots
        self.skewMs = self.ids.map { configuration.faults.skewMs[$0] ?? 0 }
        self.faultRandom = SplitMix64(seed: configuration.seed, stream: 0)
        self.held = Array(repeating: nil, count: count)
        self.truth = GroundTruth(boilers: count)
        let tickMs = configuration.periodMs * Int64(configuration.batch)
        self.totalTicks = (configuration.durationMs + tickMs - 1) / tickMs
        self.faults.skewedBoilers = UInt64(self.skewMs.filter { $0 != 0 }.count)
        self.samples.reserveCapacity(configuration.batch)
    }

    /// `b0003` for prefix `b` and index 3.
    static func id(prefix: String, index: Int) -> String {
        let digits = String(index)
        return prefix + String(repeating: "0", count: Swift.max(0, 4 - digits.count)) + digits
    }

    /// Event time reached (unskewed), ms.
    var eventTimeMs: Int64 {
        self.configuration.startMs + self.ticks * self.configuration.periodMs * Int64(self.configuration.batch)
    }

    var isFinished: Bool { self.ticks >= self.totalTicks }

    /// Applies a room setpoint command to a boiler until `validUntilMs`.
    mutating func command(boiler: Int, setpointC: Double, validUntilMs: Int64) {
        self.models[boiler].command(setpointC: setpointC, validUntilMs: validUntilMs)
    }

    /// The room setpoint a boiler holds now.
    func setpoint(boiler: Int) -> Double { self.models[boiler].setpointC }

    /// Makes the next message period for every boiler and appends what to send. Returns false when finished
    /// (after appending what was still held back).
    mutating func next(into events: inout [Event]) -> Bool {
        guard !self.isFinished else { return false }
        let configuration = self.configuration
        let offsetMs = self.eventTimeMs - configuration.startMs
        if let until = self.offlineUntilMs, offsetMs >= until {
            self.offlineUntilMs = nil
            events.append(.reconnect)
        }
        if self.offlineUntilMs == nil, self.nextDisconnect < configuration.faults.disconnects.count,
            configuration.faults.disconnects[self.nextDisconnect].atMs <= offsetMs
        {
            let fault = configuration.faults.disconnects[self.nextDisconnect]
            self.nextDisconnect += 1
            self.offlineUntilMs = fault.atMs + fault.lengthMs
            self.faults.disconnects += 1
            events.append(.disconnect)
        }
        let losing = self.offlineUntilMs != nil && !configuration.keepsWhileDisconnected
        let firstMs = self.eventTimeMs
        let seq = self.ticks * Int64(configuration.batch)
        let count = Int(Swift.min(Int64(configuration.batch), (configuration.durationMs - offsetMs + configuration.periodMs - 1) / configuration.periodMs))
        for boiler in 0..<self.models.count {
            self.samples.removeAll(keepingCapacity: true)
            for step in 0..<count {
                self.samples.append(self.models[boiler].step(atMs: firstMs + Int64(step) * configuration.periodMs, dtMs: configuration.periodMs))
            }
            self.readingsGenerated += UInt64(count)
            if losing {
                self.faults.lostOfflineReadings += UInt64(count)
                continue
            }
            self.emit(boiler: boiler, seq: seq, firstMs: firstMs + self.skewMs[boiler], into: &events)
        }
        self.ticks += 1
        if self.isFinished {
            // A message still held had no later one to swap with: it goes last, and was not reordered after all.
            for boiler in 0..<self.held.count where self.held[boiler] != nil {
                self.faults.reorderedMessages -= 1
                self.flushHeld(boiler: boiler, into: &events)
            }
            if self.offlineUntilMs != nil {
                self.offlineUntilMs = nil
                events.append(.reconnect)
            }
        }
        return true
    }

    /// One boiler's message for this period, through the faults.
    private mutating func emit(boiler: Int, seq: Int64, firstMs: Int64, into events: inout [Event]) {
        let configuration = self.configuration
        let faults = configuration.faults
        let readings = UInt64(self.samples.count)
        if self.faultRandom.chance(faults.malformed) {
            let payload = MalformedPayload.make(number: self.faults.malformedMessages, boot: self.boots[boiler], seq: seq, timestampMs: firstMs)
            self.faults.malformedMessages += 1
            self.faults.malformedByReason[payload.reason.rawValue, default: 0] += 1
            events.append(.publish(boiler: boiler, payload: payload.bytes))
            self.messagesSent += 1
        }
        if self.faultRandom.chance(faults.drop) {
            self.faults.droppedMessages += 1
            self.faults.droppedReadings += readings
            return
        }
        self.writer.reset()
        self.writer.telemetry(
            boot: self.boots[boiler], seq: seq, firstMs: firstMs, periodMs: configuration.periodMs,
            samples: self.samples[...], singleForm: configuration.batch == 1 && configuration.periodMs == 10
        )
        let payload = self.writer.bytes
        for (step, sample) in self.samples.enumerated() {
            self.truth.deliver(boiler: boiler, timestampMs: firstMs + Int64(step) * configuration.periodMs, waterCenti: sample.waterCenti)
        }
        self.readingsDelivered += readings
        let duplicated = self.faultRandom.chance(faults.duplicate)
        if duplicated {
            self.faults.duplicateMessages += 1
            self.faults.duplicateReadings += readings
            for step in 0..<self.samples.count {
                self.truth.duplicate(boiler: boiler, timestampMs: firstMs + Int64(step) * configuration.periodMs)
            }
        }
        if self.held[boiler] == nil, self.faultRandom.chance(faults.reorder) {
            self.faults.reorderedMessages += 1
            self.held[boiler] = Held(payload: payload, duplicated: duplicated)
            return
        }
        self.send(boiler: boiler, payload: payload, duplicated: duplicated, into: &events)
        self.flushHeld(boiler: boiler, into: &events)
    }

    private mutating func flushHeld(boiler: Int, into events: inout [Event]) {
        guard let held = self.held[boiler] else { return }
        self.held[boiler] = nil
        self.send(boiler: boiler, payload: held.payload, duplicated: held.duplicated, into: &events)
    }

    private mutating func send(boiler: Int, payload: [UInt8], duplicated: Bool, into events: inout [Event]) {
        events.append(.publish(boiler: boiler, payload: payload))
        self.messagesSent += 1
        if duplicated {
            events.append(.publish(boiler: boiler, payload: payload))
            self.messagesSent += 1
        }
    }
}
