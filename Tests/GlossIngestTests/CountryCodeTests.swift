import Testing
@testable import GlossIngest

/// ISO 3166-1 alpha-2 codes of the built-in countries (Sources/GlossIngest/CountryCodes.swift).
@Suite struct CountryCodeTests {
    @Test func everyCodeIsTwoUppercaseASCIILetters() {
        for c in Country.all {
            guard let code = c.isoCode else { continue }
            let scalars = Array(code.unicodeScalars)
            #expect(scalars.count == 2 && scalars.allSatisfy { ("A"..."Z").contains($0) },
                    "\(c.name): \(code)")
        }
    }

    @Test func codesAreUnique() {
        let codes = Country.all.compactMap(\.isoCode)
        #expect(Set(codes).count == codes.count)
    }

    @Test func everyCountryHasACode() {
        #expect(Country.all.count == 198)
        #expect(Country.all.compactMap(\.isoCode).count == 198)
        #expect(Country.all.filter { $0.isoCode == nil }.map(\.name) == [])
    }

    @Test func theTableNamesOnlyCountriesOfTheList() {
        let names = Set(Country.all.map(\.name))
        #expect(Set(Country.isoCodes.keys) == names)
    }

    @Test func spotChecks() {
        let expected = [
            "Azerbaijan": "AZ", "Pakistan": "PK", "Turkey": "TR", "United States": "US",
            "United Kingdom": "GB", "Ivory Coast": "CI", "Czech Republic": "CZ",
            "Republic of the Congo": "CG", "Democratic Republic of the Congo": "CD",
            "East Timor": "TL", "Eswatini": "SZ", "Myanmar": "MM", "Kosovo": "XK",
            "Taiwan": "TW", "Palestine": "PS", "Vatican City": "VA", "Western Sahara": "EH",
        ]
        for (name, code) in expected {
            let country = Country.all.first { $0.name == name }
            #expect(country?.isoCode == code, "\(name)")
        }
    }

    @Test func lookupByCode() {
        #expect(Country.byISOCode("AZ")?.name == "Azerbaijan")
        #expect(Country.byISOCode("tr")?.name == "Turkey")
        #expect(Country.byISOCode("XK")?.name == "Kosovo")
        #expect(Country.byISOCode("ZZ") == nil)
        #expect(Country.byISOCode("") == nil)
        for c in Country.all { #expect(Country.byISOCode(c.isoCode ?? "")?.name == c.name) }
    }

    @Test func aCountryNotInTheListHasNoCode() {
        #expect(Country(name: "Atlantis", aliases: [], demonyms: []).isoCode == nil)
    }
}
