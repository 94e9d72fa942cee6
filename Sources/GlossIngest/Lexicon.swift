import Foundation

/// The word lists of extraction rules version 1 (Protocol/06-extraction.md §Lexicons).
///
/// Every list is written exactly as the specification prints it (a test compares the two), so a
/// re-implementation can copy them. Changing any list changes the candidates: bump `rulesVersion`.
enum Lexicon {
    /// Month names and abbreviations (case-sensitive), with the month they name.
    static let monthList = """
        January=1 Jan=1 February=2 Feb=2 March=3 Mar=3 April=4 Apr=4 May=5 June=6 Jun=6 July=7 Jul=7
        August=8 Aug=8 September=9 Sep=9 Sept=9 October=10 Oct=10 November=11 Nov=11 December=12 Dec=12
        """
    /// Weekday names (case-sensitive), ISO numbering (Monday = 1).
    static let weekdayList = "Monday=1 Tuesday=2 Wednesday=3 Thursday=4 Friday=5 Saturday=6 Sunday=7"

    /// Reporting verbs (lowercase, matched case-insensitively). Those marked `*` are past tense and
    /// alone make a following weekday resolve to the past (`weekday-said`).
    static let reportingVerbList = """
        said* says told* tells stated* added* adds announced* noted* warned* insisted* declared* wrote*
        writes explained* confirmed* claimed* argued* stressed* emphasized* emphasised* asserted*
        reiterated* acknowledged* admitted* replied* responded* tweeted* concluded* reported*
        """

    /// Pronouns that may stand as a speaker (lowercase). They give no speaker name.
    static let pronounList = "he she they it we i"

    /// Words that end a role and may directly precede a person's name (lowercase, case-insensitive).
    static let roleHeadList = """
        minister president premier chancellor secretary general gen lieutenant lt colonel col major maj
        brigadier brig admiral adm commander cmdr captain capt sergeant sgt marshal chief head director
        ambassador envoy spokesperson spokesman spokeswoman senator sen representative rep governor gov
        mayor king queen prince princess sheikh emir sultan pope chairman chairwoman chairperson judge
        prosecutor mr mrs ms dr prof professor diplomat official adviser advisor aide leader coas ceo
        commissioner lawmaker mp deputy
        """

    /// Further words a role may contain before its head (lowercase, case-insensitive).
    static let roleWordList = """
        vice prime acting interim former top senior foreign defense defence interior home finance
        economy trade energy health education internal external affairs state national security
        intelligence military army navy naval air force forces land joint staff chiefs border service
        special armed attorney field supreme high permanent rear first ministry office department
        """

    /// Capitalized words that name organisations, places or things, never part of a person's name
    /// (case-sensitive).
    static let organisationList = """
        Forces Force Service Services Staff Ministry Department Office Council Committee Commission
        Agency Army Navy Bank Party Union Nations Organization Organisation Corporation Company Group
        University Institute Court Parliament Assembly Government Police Guard Guards Command Center
        Centre Association Foundation Fund Alliance Coalition Front Movement Republic Kingdom Federation
        Emirates States Islands House Affairs Security Border Airport Station Province Region District
        County City Island Gulf Strait Sea Ocean River Lake Mount Mountains Street Avenue Square Summit
        Forum Conference Program Programme Project Operation Exercise Exercises News Times Post Press
        Media Network Television Radio Journal Daily School College Academy Hospital Church Mosque
        Temple Museum Stadium Club Team League Cup Games Festival Award Prize Act Law Treaty Accord
        Agreement Declaration Charter Plan Initiative Strategy Policy Report Index Market Exchange
        Airlines Airways Inc Ltd Corp Co Holdings Industries Systems Technologies Energy Oil Gas Power
        Bureau Directorate Secretariat Cabinet Senate Congress Board Authority Administration Embassy
        Consulate Mission Delegation Battalion Brigade Division Regiment Corps Unit Fleet Wing Squadron
        Base Camp Valley Desert Peninsula Coast Bay Port Bridge Canal Highway Road Park Palace Tower
        Hall Building Plaza Hills Heights Basin Delta Capital Territory State Internal National
        International Global Joint Special Armed Military Intelligence North South East West Northern
        Southern Eastern Western Central Middle Upper Lower Greater New Old Great Royal Federal
        Democratic People Islamic Arab African European Asian Atlantic Pacific Caspian Black Red White
        Day Week Year War World Peace Civil Revolution Crisis
        """

    /// Capitalized function and sentence-opening words, never part of a person's name (case-sensitive).
    static let functionWordList = """
        The A An This That These Those It Its He She They We I You His Her Their Our My Your In On At
        For From With By To Of And But Or Nor So Yet After Before According Recently Meanwhile However
        Also While When Where Why How What Who Whom Whose Which As If Since Earlier Later Some Many Most
        All Both Each Every Several Few Other Another Such No Not Yes There Here Then Now Today
        Yesterday Tomorrow Last Next Despite During Under Over Between Among Against Without Within
        Although Though Because Unless Until Once Only Even Still Just Officials Reports Sources Analysts
        Experts Critics Residents Witnesses Mr Mrs Ms Dr
        """

    /// Abbreviations whose final period neither ends a sentence nor a name (case-sensitive).
    static let abbreviationList = """
        Gen Lt Col Maj Brig Adm Capt Cmdr Sgt Mr Mrs Ms Dr Prof St Sen Rep Gov Jr Sr Inc Ltd Co Corp No
        vs etc Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Mt Ft
        """

    /// Lowercase particles allowed inside a person's name (`Ursula von der Leyen`, `Zia ul Haq`).
    static let nameParticleList = "al el bin ibn bint de del della di da do dos das van von der den du le la ul ud ter"

    /// Words inside parentheses that continue a title: `General (retd) Hulusi Akar` (lowercase).
    static let parentheticalTitleList = "retd ret"

    /// Words just before an untitled name that make it a person (`with Muhammad Asif`), lowercase;
    /// a possessive (`Turkey’s Mevlut Cavusoglu`) counts as well.
    static let personCueBeforeList = "with by and between met meets meeting said told including"
    /// Words just after an untitled name that make it a person (`Muhammad Asif from`), lowercase.
    static let personCueAfterList = "said says told tells stated added announced who from"

    /// Prepositions before a bare month (`in September`) or a bare year (`in 2019`), lowercase.
    static let monthPrepositionList = "in by since until till from through throughout during before after early late mid of"
    static let yearPrepositionList = "in by since until till from through throughout during before after early late mid"

    /// Nouns of `in a statement`-style tails (lowercase).
    static let mediumList = "statement interview post address speech letter tweet message video briefing conference"
    /// Audiences after `told` / `to` (lowercase).
    static let audienceList = "reporters journalists lawmakers parliament"
    /// Parts of the day after a weekday (lowercase).
    static let dayPartList = "morning afternoon evening night"

    // MARK: Parsed forms

    static let months: [String: Int] = pairs(monthList)
    static let weekdays: [String: Int] = pairs(weekdayList)
    static let reportingVerbs: Set<String> = words(reportingVerbList.replacingOccurrences(of: "*", with: ""))
    static let pastReportingVerbs: Set<String> = Set(reportingVerbList.split(whereSeparator: \.isWhitespace).filter { $0.hasSuffix("*") }.map { String($0.dropLast()) })
    static let pronouns = words(pronounList)
    static let roleHeads = words(roleHeadList)
    static let roleWords = words(roleWordList).union(roleHeads)
    static let organisations = words(organisationList)
    static let functionWords = words(functionWordList)
    static let abbreviations = words(abbreviationList)
    static let nameParticles = words(nameParticleList)
    static let parentheticalTitles = words(parentheticalTitleList)
    static let personCuesBefore = words(personCueBeforeList)
    static let personCuesAfter = words(personCueAfterList)
    static let monthPrepositions = words(monthPrepositionList)
    static let yearPrepositions = words(yearPrepositionList)
    static let media = words(mediumList)
    static let audiences = words(audienceList)
    static let dayParts = words(dayPartList)

    /// Every published list by the name the specification gives its block (`lexicon <name>`).
    static let published: [(name: String, text: String)] = [
        ("months", monthList), ("weekdays", weekdayList), ("reporting-verbs", reportingVerbList),
        ("pronouns", pronounList), ("role-heads", roleHeadList), ("role-words", roleWordList),
        ("organisation-words", organisationList), ("function-words", functionWordList),
        ("abbreviations", abbreviationList), ("name-particles", nameParticleList),
        ("parenthetical-titles", parentheticalTitleList), ("person-cues-before", personCueBeforeList),
        ("person-cues-after", personCueAfterList), ("month-prepositions", monthPrepositionList),
        ("year-prepositions", yearPrepositionList), ("media", mediumList), ("audiences", audienceList),
        ("day-parts", dayPartList), ("personal-name-forms", Country.personalNameFormList),
    ]

    static func words(_ list: String) -> Set<String> {
        Set(list.split(whereSeparator: \.isWhitespace).map(String.init))
    }

    static func pairs(_ list: String) -> [String: Int] {
        var result: [String: Int] = [:]
        for item in list.split(whereSeparator: \.isWhitespace) {
            let parts = item.split(separator: "=")
            result[String(parts[0])] = Int(parts[1])!
        }
        return result
    }
}
