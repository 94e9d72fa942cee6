import Foundation
import GlossIngest
import Testing

/// Articles in the sample format that the rules were not written against: other datelines, straight
/// and curly quotes, `told reporters`, `said in a statement`, relative dates around other article dates.
@Suite struct OtherArticleTests {
    static let kyiv = """
        date 2023-03-14 KYIV – Ukraine will receive the first Leopard 2 tanks from Germany next month, Ukrainian Defense Minister Oleksii Reznikov told reporters on Monday.

        "We expect the first battalion to be ready by the end of April," Reznikov said, adding that crews had trained in Poland since February.

        The Kremlin said in a statement that the deliveries would "change nothing" on the battlefield. Russian Foreign Minister Sergei Lavrov said last week that the West was "directly involved" in the conflict.

        Talks with Turkish officials are planned for March 20, according to a ministry spokesperson. The grain deal, first signed on July 22, 2022, expires on 18 March 2023.

        “Our soldiers have shown what they can do,” President Volodymyr Zelensky said in his nightly address.
        """

    static let washington = """
        date 2022-11-02 WASHINGTON/BRUSSELS – NATO allies agreed on Tuesday to expand air policing over the Baltic states, the alliance said in a statement.

        "The alliance stands united," Secretary General Jens Stoltenberg told reporters in Brussels. He said allies would meet again in February 2023 to review progress.

        U.S. Secretary of State Antony Blinken said the United States had delivered $400 million in aid since August. The State Department said Lithuania, Latvia and Estonia would host additional troops from January 1.

        Officials in London said British jets would arrive next week. “We are ready to deploy at short notice,” a Royal Air Force spokesperson said Wednesday.
        """

    static let singapore = """
        date 2024-01-05 SINGAPORE – Singapore’s trade ministry said on Friday that exports fell 4% in December, the sharpest drop since mid-2023.

        “The outlook for the first quarter remains uncertain,” Trade Minister Gan Kim Yong said in a statement. He added that talks with Malaysia and Indonesia on a power grid, launched in 2019, would resume next month.

        Prime Minister Lee Hsien Loong met Chinese Premier Li Qiang in Beijing last month. The two leaders discussed cooperation with the Philippines and Vietnam, according to a joint communique.

        In turkey farms across the region, prices rose yesterday. Analysts expect a rebound by March this year.
        """

    static let tehran = """
        date 2020-02-29 TEHRAN – Iran’s foreign ministry said in a statement: “We will respond to any aggression.” The statement followed talks in Ankara last Tuesday, when Türkiye and the U.K. agreed to meet again on 15 March.

        Iranian Foreign Minister Mohammad Javad Zarif said the sanctions, first imposed in 2018, had failed. Britain and Latin America were not mentioned, officials said.

        A basketball fan compared the mood to Michael Jordan in New Mexico. Families bought a turkey for the holiday, the agency reported Friday.
        """

    /// `kind value [precision] @exact` lines for the dates, in text order.
    static func dates(_ c: [Candidate]) -> [String] {
        c.of("date").map { "\($0.rule) \($0.value) \($0.precision!) @\($0.selector.exact)" }
    }

    @Test func kyiv() throws {
        let (text, c) = extract(Self.kyiv)
        #expect(c.of("place").map(\.value) == ["Kyiv"])
        #expect(Self.dates(c) == [
            "dateline-date 2023-03-14 day @2023-03-14",
            "next-month 2023-04 month @next month",
            "weekday-said 2023-03-13 day @Monday",          // 2023-03-14 is a Tuesday
            "month-in 2023-04 month @April",
            "month-in 2023-02 month @February",
            "last-week 2023-W10 week @last week",
            "month-day 2023-03-20 day @March 20",
            "month-day-year 2022-07-22 day @July 22, 2022",
            "day-month-year 2023-03-18 day @18 March 2023",
        ])
        let s = c.of("statement")
        #expect(s.map(\.rule) == ["reported-said", "quote-said", "said-that", "said-that", "quote-said"])
        #expect(s[0].value == "Ukraine will receive the first Leopard 2 tanks from Germany next month")
        #expect(s[0].speaker == "Oleksii Reznikov" && s[0].role == "Defense Minister" && s[0].affiliation == "Ukraine" && s[0].saidOn == "2023-03-13")
        // A straight-quoted statement attributed by surname alone resolves to the full name.
        #expect(s[1].value == "We expect the first battalion to be ready by the end of April" && s[1].speaker == "Oleksii Reznikov")
        #expect(s[2].speaker == "Kremlin" && s[2].value == "the deliveries would \"change nothing\" on the battlefield")
        #expect(s[3].speaker == "Sergei Lavrov" && s[3].role == "Foreign Minister" && s[3].affiliation == "Russia" && s[3].saidOn == "2023-W10")
        #expect(s[4].value == "Our soldiers have shown what they can do" && s[4].speaker == "Volodymyr Zelensky" && s[4].role == "President")
        #expect(c.values("person") == ["Oleksii Reznikov", "Oleksii Reznikov", "Sergei Lavrov", "Volodymyr Zelensky"])
        #expect(c.values("country") == ["Ukraine", "Germany", "Ukraine", "Poland", "Russia", "Turkey"])
        #expect(c.allSatisfy { $0.selector.matches(text) })
    }

    @Test func washingtonBrussels() throws {
        let (text, c) = extract(Self.washington)
        #expect(c.of("place").map(\.value) == ["Washington", "Brussels"])
        #expect(c.of("place").map(\.selector.exact) == ["WASHINGTON", "BRUSSELS"])
        #expect(Self.dates(c) == [
            "dateline-date 2022-11-02 day @2022-11-02",
            "month-year 2023-02 month @February 2023",
            "month-in 2022-08 month @August",
            "month-day 2023-01-01 day @January 1",          // the January 1 nearest the article date
            "next-week 2022-W45 week @next week",
            "weekday-said 2022-11-02 day @Wednesday",       // the article date is a Wednesday
        ])
        let s = c.of("statement")
        #expect(s.map(\.rule) == ["reported-said", "quote-said", "said-that", "said-that", "said-that", "quote-said"])
        #expect(s[0].value == "NATO allies agreed on Tuesday to expand air policing over the Baltic states" && s[0].speaker == "alliance")
        #expect(s[1].value == "The alliance stands united" && s[1].speaker == "Jens Stoltenberg" && s[1].role == "Secretary General")
        #expect(s[1].attribution?.exact == "Secretary General Jens Stoltenberg")
        #expect(s[2].speaker == nil && s[2].value == "allies would meet again in February 2023 to review progress")   // "He said …"
        #expect(s[3].speaker == "Antony Blinken" && s[3].role == "Secretary of State" && s[3].affiliation == "United States")
        #expect(s[4].speaker == "State Department" && s[4].value == "Lithuania, Latvia and Estonia would host additional troops from January 1")
        #expect(s[5].speaker == nil && s[5].role == "Royal Air Force spokesperson" && s[5].saidOn == "2022-11-02")
        #expect(c.values("person") == ["Jens Stoltenberg", "Antony Blinken"])
        #expect(c.values("country") == ["United States", "United States", "Lithuania", "Latvia", "Estonia", "United Kingdom"])
        #expect(c.allSatisfy { $0.selector.matches(text) })
    }

    @Test func singapore() throws {
        let (text, c) = extract(Self.singapore)
        #expect(c.of("place").map(\.value) == ["Singapore"])
        // A dateline place that is a country is a country mention too.
        #expect(c.of("country").first?.rule == "dateline-country")
        #expect(Self.dates(c) == [
            "dateline-date 2024-01-05 day @2024-01-05",
            "weekday-said 2024-01-05 day @Friday",
            "month-in 2023-12 month @December",             // the December nearest January 2024
            "year-in 2023 year @2023",
            "year-in 2019 year @2019",
            "next-month 2024-02 month @next month",
            "last-month 2023-12 month @last month",
            "relative-day 2024-01-04 day @yesterday",
            "month-this-year 2024-03 month @March this year",
        ])
        let s = c.of("statement")
        #expect(s.map(\.rule) == ["said-that", "quote-said", "said-that"])
        #expect(s[0].value == "exports fell 4% in December, the sharpest drop since mid-2023" && s[0].affiliation == "Singapore" && s[0].saidOn == "2024-01-05")
        #expect(s[1].speaker == "Gan Kim Yong" && s[1].role == "Trade Minister")
        #expect(s[2].speaker == nil && s[2].value.hasSuffix("would resume next month"))
        #expect(c.values("person") == ["Gan Kim Yong", "Lee Hsien Loong", "Li Qiang"])
        #expect(c.of("person").last?.affiliation == "China" && c.of("person").last?.role == "Premier")
        // "turkey farms" is not Turkey.
        #expect(c.values("country") == ["Singapore", "Singapore", "Malaysia", "Indonesia", "China", "Philippines", "Vietnam"])
        #expect(c.allSatisfy { $0.selector.matches(text) })
    }

    @Test func tehran() throws {
        let (text, c) = extract(Self.tehran)
        #expect(c.of("place").map(\.value) == ["Tehran"])
        #expect(Self.dates(c) == [
            "dateline-date 2020-02-29 day @2020-02-29",
            "weekday-last 2020-02-25 day @last Tuesday",    // strictly before Saturday 2020-02-29
            "day-month 2020-03-15 day @15 March",
            "year-in 2018 year @2018",
            "weekday-said 2020-02-28 day @Friday",
        ])
        let s = c.of("statement")
        #expect(s.map(\.rule) == ["quote-said", "said-that", "reported-said"])
        #expect(s[0].value == "We will respond to any aggression." && s[0].affiliation == "Iran" && s[0].speaker == "foreign ministry")
        #expect(s[1].value == "the sanctions, first imposed in 2018, had failed" && s[1].speaker == "Mohammad Javad Zarif" && s[1].affiliation == "Iran")
        #expect(s[2].value == "Families bought a turkey for the holiday" && s[2].saidOn == "2020-02-28")
        // Türkiye is Turkey; Latin America, New Mexico and Michael Jordan are not countries.
        #expect(c.values("country") == ["Iran", "Turkey", "United Kingdom", "Iran", "United Kingdom"])
        #expect(c.of("country").map(\.selector.exact) == ["Iran", "Türkiye", "U.K.", "Iranian", "Britain"])
        #expect(c.values("person") == ["Mohammad Javad Zarif"])
        #expect(c.allSatisfy { $0.selector.matches(text) })
    }

    @Test func withoutADatelineRelativeDatesAreSkippedAndNoYearIsInvented() {
        let text = "Officials said on Monday that talks would resume next month. The ministry said the deal, signed in March 2019, stands."
        let c = Extraction.extract(text: text, articleDate: Dateline.parse(text)?.date)
        #expect(Dateline.parse(text) == nil)
        #expect(c.of("date").map(\.value) == ["2019-03"])
        #expect(c.of("statement").map(\.value) == ["the deal, signed in March 2019, stands"])
        #expect(c.allSatisfy { $0.saidOn == nil })
    }
}
