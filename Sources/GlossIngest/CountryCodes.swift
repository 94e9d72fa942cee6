// Temporary: the full ISO 3166-1 table lands with the `codes` branch.
extension Country { public var isoCode: String? { ["Azerbaijan": "AZ", "Pakistan": "PK", "Turkey": "TR", "Afghanistan": "AF"][name] } }
