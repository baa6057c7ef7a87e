import Foundation

/// The thermal model of one boiler and the house it heats.
///
/// The burner heats the water; the water heats the room through the radiators; the room loses heat to the
/// outdoors, whose temperature drifts slowly (a daily swing plus a random walk). The boiler's aquastat fires the
/// burner between a low and a high water limit, so the water temperature saw-tooths over minutes as real boilers'
/// do; the room thermostat runs the circulation pump below its setpoint (with hysteresis), and with the pump off
/// the water loses only a little heat where the boiler stands. The sensor adds noise and reads to 0.01 °C. Each
/// boiler draws its own parameters from its generator.
struct BoilerModel: Sendable {
    /// What the model is made of, drawn once per boiler.
    struct Parameters: Sendable, Hashable {
        /// Burner power at 100 %, kW.
        var burnerKW: Double
        /// Modulation while firing, %.
        var firingPct: Double
        /// Water heat capacity, kJ/K.
        var waterCapacity: Double
        /// Room (house) heat capacity, kJ/K.
        var roomCapacity: Double
        /// Radiator transfer, kW/K.
        var radiatorKW: Double
        /// House loss to outdoors, kW/K.
        var lossKW: Double
        /// Aquastat limits, °C.
        var waterLowC: Double
        var waterHighC: Double
        /// The room setpoint the boiler holds without commands, °C.
        var baseSetpointC: Double
        /// Mean outdoor temperature, °C, and the daily swing's amplitude.
        var outdoorMeanC: Double
        var outdoorSwingC: Double
        /// Sensor noise, standard deviation, °C.
        var noiseC: Double

        static func draw(_ random: inout SplitMix64) -> Parameters {
            Parameters(
                burnerKW: random.uniform(18...28),
                firingPct: random.uniform(60...100),
                waterCapacity: random.uniform(250...400),
                roomCapacity: random.uniform(2_000...4_000),
                radiatorKW: random.uniform(0.25...0.4),
                lossKW: random.uniform(0.15...0.25),
                waterLowC: random.uniform(55...60),
                waterHighC: random.uniform(70...78),
                baseSetpointC: 20,
                outdoorMeanC: random.uniform(0...10),
                outdoorSwingC: random.uniform(2...5),
                noiseC: 0.05
            )
        }
    }

    /// One sample as the sensors read it: water and room in hundredths of a degree, outdoor in tenths, burner in
    /// whole percent (fixed point, so the text sent and the truth kept are the same numbers).
    struct Sample: Sendable, Hashable {
        var waterCenti: Int64
        var roomCenti: Int64
        var outdoorDeci: Int64
        var burnerPct: Int64
    }

    let parameters: Parameters
    private var random: SplitMix64
    private(set) var waterC: Double
    private(set) var roomC: Double
    private var outdoorDriftC = 0.0
    private var heatDemand = false
    private var firing = false
    /// The room setpoint in force: a commanded one until it expires, else the boiler's own.
    private(set) var setpointC: Double
    private var commandValidUntilMs: Int64 = .min

    init(random: SplitMix64) {
        var random = random
        self.parameters = Parameters.draw(&random)
        self.waterC = random.uniform(55...70)
        self.roomC = self.parameters.baseSetpointC + random.uniform(-1.5...0.5)
        self.setpointC = self.parameters.baseSetpointC
        self.random = random
    }

    /// Applies a commanded room setpoint until `validUntilMs` (event time).
    mutating func command(setpointC: Double, validUntilMs: Int64) {
        self.setpointC = setpointC
        self.commandValidUntilMs = validUntilMs
    }

    /// Advances the model by `dtMs` to event time `atMs` and reads the sensors.
    mutating func step(atMs: Int64, dtMs: Int64) -> Sample {
        let p = self.parameters
        if atMs > self.commandValidUntilMs { self.setpointC = p.baseSetpointC }
        let dt = Double(dtMs) / 1_000
        // Outdoors: a daily swing (coldest at 04:00 UTC) plus a slow random walk.
        let dayPhase = Double((atMs % 86_400_000 + 86_400_000) % 86_400_000) / 86_400_000
        self.outdoorDriftC += 0.002 * dt.squareRoot() * self.random.gaussian()
        self.outdoorDriftC *= 1 - 1e-5 * dt
        let outdoor = p.outdoorMeanC - p.outdoorSwingC * cos(2 * Double.pi * (dayPhase - 4.0 / 24)) + self.outdoorDriftC
        // Thermostat (±0.25 °C) and aquastat (low/high limits) with hysteresis.
        if self.roomC < self.setpointC - 0.25 { self.heatDemand = true }
        if self.roomC > self.setpointC + 0.25 { self.heatDemand = false }
        if self.waterC < p.waterLowC { self.firing = true }
        if self.waterC > p.waterHighC { self.firing = false }
        let burnerPct = self.firing ? p.firingPct : 0
        let burnerKW = p.burnerKW * burnerPct / 100
        // The pump runs while the room asks for heat; standing losses otherwise.
        let radiatorKW = (self.heatDemand ? p.radiatorKW : 0) * (self.waterC - self.roomC)
        let standingKW = 0.03 * (self.waterC - self.roomC)
        let lossKW = p.lossKW * (self.roomC - outdoor)
        self.waterC += (burnerKW - radiatorKW - standingKW) / p.waterCapacity * dt
        self.roomC += (radiatorKW - lossKW) / p.roomCapacity * dt
        let measured = self.waterC + p.noiseC * self.random.gaussian()
        // Within the schema's ranges whatever the parameters do.
        return Sample(
            waterCenti: Int64((min(max(measured, -20), 150) * 100).rounded()),
            roomCenti: Int64((min(max(self.roomC, -50), 60) * 100).rounded()),
            outdoorDeci: Int64((min(max(outdoor, -60), 60) * 10).rounded()),
            burnerPct: Int64(burnerPct.rounded())
        )
    }
}
