import Metrics

/// A counter from `factory`, or from the bootstrapped metrics system when there is none (tests pass their own).
func makeCounter(_ label: String, dimensions: [(String, String)] = [], factory: (any MetricsFactory)?) -> Counter {
    factory.map { Counter(label: label, dimensions: dimensions, factory: $0) } ?? Counter(label: label, dimensions: dimensions)
}

/// A gauge from `factory`, or from the bootstrapped metrics system.
func makeGauge(_ label: String, factory: (any MetricsFactory)?) -> Gauge {
    factory.map { Gauge(label: label, factory: $0) } ?? Gauge(label: label)
}
