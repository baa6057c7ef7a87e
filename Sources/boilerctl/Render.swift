import Foundation

/// The tables boilerctl prints, from the API's JSON objects.
enum Render {
    /// A boiler id as a path segment: percent-encoded, so an id can never change the path.
    static func pathSegment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
    }

    static func boilers(_ boilers: [[String: Any]]) -> String {
        let rows = boilers.map { boiler -> [String] in
            let reading = boiler["latest_reading"] as? [String: Any]
            let snapshot = boiler["last_snapshot"] as? [String: Any]
            let decision = boiler["last_decision"] as? [String: Any]
            return [
                boiler["boiler_id"] as? String ?? "?",
                Table.number(reading?["water_c"]),
                Table.time(reading?["ts_ms"]),
                Table.number(snapshot?["mean_c"]),
                snapshot.map { Table.number(($0["coverage"] as? NSNumber).map { NSNumber(value: $0.doubleValue * 100) }, 1) + "%" } ?? "-",
                decision.map { (($0["trusted"] as? Bool) == true ? "" : "untrusted: ") + ($0["reason"] as? String ?? "") } ?? "-",
                Table.number(decision?["room_setpoint_c"], 1),
            ]
        }
        return Table.render(["boiler", "water °C", "reading at", "hour mean °C", "coverage", "decision", "setpoint °C"], rows)
            + "\n\(boilers.count) boilers"
    }

    static func boiler(_ boiler: [String: Any]) -> String {
        var lines = ["boiler \(boiler["boiler_id"] as? String ?? "?")"]
        for (title, key) in [("latest reading", "latest_reading"), ("last snapshot", "last_snapshot"), ("last decision", "last_decision")] {
            guard let section = boiler[key] as? [String: Any] else {
                lines.append("\(title): none")
                continue
            }
            lines.append("\(title):")
            lines.append(Self.keyValues(section, indent: "  "))
        }
        return lines.joined(separator: "\n")
    }

    static func snapshots(_ snapshots: [[String: Any]]) -> String {
        let rows = snapshots.map { snapshot in
            [
                Table.time(snapshot["hour_start_ms"]),
                Table.integer(snapshot["samples"]),
                Table.integer(snapshot["expected_samples"]),
                Table.number((snapshot["coverage"] as? NSNumber).map { NSNumber(value: $0.doubleValue * 100) }, 1) + "%",
                Table.number(snapshot["mean_c"], 3),
                Table.number(snapshot["min_c"]),
                Table.number(snapshot["max_c"]),
                Table.integer(snapshot["duplicates"]),
                Table.integer(snapshot["late_samples"]),
            ]
        }
        return Table.render(["hour (UTC)", "samples", "expected", "coverage", "mean °C", "min °C", "max °C", "dups", "late"], rows)
    }

    static func decisions(_ decisions: [[String: Any]]) -> String {
        let rows = decisions.map { decision in
            [
                Table.time(decision["tick_at_ms"]),
                (decision["trusted"] as? Bool) == true ? "yes" : "no",
                decision["reason"] as? String ?? "",
                Table.number(decision["current_c"]),
                Table.number(decision["hourly_mean_c"]),
                Table.number(decision["delta_c"]),
                Table.number(decision["room_setpoint_c"], 1),
                (decision["published"] as? Bool) == true ? "yes" : "no",
            ]
        }
        return Table.render(["tick (UTC)", "trusted", "reason", "water °C", "hour mean °C", "delta", "setpoint °C", "sent"], rows)
    }

    static func tail(_ object: [String: Any]) -> String {
        var lines: [String] = []
        for gap in object["gaps"] as? [[String: Any]] ?? [] {
            lines.append("GAP \(Table.integer(gap["first_seq"]))...\(Table.integer(gap["last_seq"])): \(gap["message"] as? String ?? "")")
        }
        for message in object["messages"] as? [[String: Any]] ?? [] {
            func describe(_ reading: [String: Any]) -> String {
                "\(Table.time(reading["ts_ms"])) water \(Table.number(reading["water_c"])) °C seq \(Table.integer(reading["seq"]))"
            }
            let subject = message["subject"] as? String ?? ""
            if let run = message["readings"] as? [[String: Any]], !run.isEmpty {
                // A message holding a run of readings (stream storage `message`): one line per reading.
                lines.append("\(Table.integer(message["seq"]))  \(subject)  \(run.count) readings:")
                for reading in run { lines.append("    \(describe(reading))") }
            } else {
                let detail = (message["reading"] as? [String: Any]).map(describe) ?? "(not a reading)"
                lines.append("\(Table.integer(message["seq"]))  \(subject)  \(detail)")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func keyValues(_ object: [String: Any], indent: String = "") -> String {
        object.keys.sorted().map { key in
            let value = object[key]
            let text: String
            switch value {
            case let number as NSNumber: text = key.hasSuffix("_ms") && number.int64Value > 1_000_000_000_000 ? "\(number) (\(Table.time(number)))" : "\(number)"
            case let string as String: text = string
            case let array as [Any]: text = array.map { "\($0)" }.joined(separator: ", ")
            default: text = "-"
            }
            return "\(indent)\(key): \(text)"
        }.joined(separator: "\n")
    }
}
