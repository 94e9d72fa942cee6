/// A country of the built-in list (Protocol/06-extraction.md §Countries): its canonical name, the other
/// names it goes by, and its demonyms. Every form is matched case-sensitively on word boundaries.
public struct Country: Equatable, Sendable {
    /// The canonical name: the short English name most used in English-language news.
    public var name: String
    /// Other names, official names and abbreviations (`Türkiye`, `U.S.`, `Britain`).
    public var aliases: [String]
    /// Adjectives and names of the people (`Azerbaijani`, `Azeri`, `Azeris`).
    public var demonyms: [String]
}

extension Country {
    /// The countries of rules version 1, in the order of the specification's table.
    public static let all: [Country] = table.split(separator: "\n").map { line in
        let cols = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        func list(_ i: Int) -> [String] {
            i < cols.count ? cols[i].split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } : []
        }
        return Country(name: cols[0], aliases: list(1), demonyms: list(2))
    }

    /// `canonical | aliases; … | demonyms; …`, one country a line, exactly as printed in
    /// Protocol/06-extraction.md §Countries (a test compares them).
    static let table = """
        Afghanistan | | Afghan; Afghans
        Albania | | Albanian; Albanians
        Algeria | | Algerian; Algerians
        Andorra | | Andorran; Andorrans
        Angola | | Angolan; Angolans
        Antigua and Barbuda | | Antiguan; Antiguans
        Argentina | | Argentine; Argentines; Argentinian; Argentinians
        Armenia | | Armenian; Armenians
        Australia | | Australian; Australians
        Austria | | Austrian; Austrians
        Azerbaijan | | Azerbaijani; Azerbaijanis; Azeri; Azeris
        Bahamas | | Bahamian; Bahamians
        Bahrain | | Bahraini; Bahrainis
        Bangladesh | | Bangladeshi; Bangladeshis
        Barbados | | Barbadian; Barbadians
        Belarus | | Belarusian; Belarusians
        Belgium | | Belgian; Belgians
        Belize | | Belizean; Belizeans
        Benin | | Beninese
        Bhutan | | Bhutanese
        Bolivia | | Bolivian; Bolivians
        Bosnia and Herzegovina | Bosnia; Bosnia-Herzegovina | Bosnian; Bosnians
        Botswana | | Botswanan; Motswana; Batswana
        Brazil | | Brazilian; Brazilians
        Brunei | Brunei Darussalam | Bruneian; Bruneians
        Bulgaria | | Bulgarian; Bulgarians
        Burkina Faso | | Burkinabe; Burkinabè
        Burundi | | Burundian; Burundians
        Cambodia | | Cambodian; Cambodians
        Cameroon | | Cameroonian; Cameroonians
        Canada | | Canadian; Canadians
        Cape Verde | Cabo Verde | Cape Verdean; Cape Verdeans; Cabo Verdean
        Central African Republic | |
        Chad | | Chadian; Chadians
        Chile | | Chilean; Chileans
        China | People’s Republic of China; PRC | Chinese
        Colombia | | Colombian; Colombians
        Comoros | | Comoran; Comorian; Comorians
        Costa Rica | | Costa Rican; Costa Ricans
        Croatia | | Croatian; Croatians; Croat; Croats
        Cuba | | Cuban; Cubans
        Cyprus | | Cypriot; Cypriots
        Czech Republic | Czechia | Czech; Czechs
        Democratic Republic of the Congo | Democratic Republic of Congo; DR Congo; DRC; Congo-Kinshasa |
        Denmark | | Danish; Danes
        Djibouti | | Djiboutian; Djiboutians
        Dominica | |
        Dominican Republic | | Dominican; Dominicans
        East Timor | Timor-Leste | Timorese
        Ecuador | | Ecuadorian; Ecuadorians; Ecuadorean
        Egypt | | Egyptian; Egyptians
        El Salvador | | Salvadoran; Salvadorans; Salvadorean
        Equatorial Guinea | | Equatorial Guinean; Equatoguinean
        Eritrea | | Eritrean; Eritreans
        Estonia | | Estonian; Estonians
        Eswatini | Swaziland | Swazi; Swazis
        Ethiopia | | Ethiopian; Ethiopians
        Fiji | | Fijian; Fijians
        Finland | | Finnish; Finns
        France | | French
        Gabon | | Gabonese
        Gambia | | Gambian; Gambians
        Georgia | | Georgian; Georgians
        Germany | | German; Germans
        Ghana | | Ghanaian; Ghanaians
        Greece | Hellenic Republic | Greek; Greeks
        Grenada | | Grenadian; Grenadians
        Guatemala | | Guatemalan; Guatemalans
        Guinea | | Guinean; Guineans
        Guinea-Bissau | | Bissau-Guinean; Bissau-Guineans
        Guyana | | Guyanese
        Haiti | | Haitian; Haitians
        Honduras | | Honduran; Hondurans
        Hungary | | Hungarian; Hungarians
        Iceland | | Icelandic; Icelander; Icelanders
        India | | Indian; Indians
        Indonesia | | Indonesian; Indonesians
        Iran | Islamic Republic of Iran | Iranian; Iranians
        Iraq | | Iraqi; Iraqis
        Ireland | Republic of Ireland | Irish
        Israel | | Israeli; Israelis
        Italy | | Italian; Italians
        Ivory Coast | Côte d’Ivoire; Cote d’Ivoire | Ivorian; Ivorians
        Jamaica | | Jamaican; Jamaicans
        Japan | | Japanese
        Jordan | | Jordanian; Jordanians
        Kazakhstan | | Kazakh; Kazakhs; Kazakhstani; Kazakhstanis
        Kenya | | Kenyan; Kenyans
        Kiribati | | I-Kiribati
        Kuwait | | Kuwaiti; Kuwaitis
        Kyrgyzstan | | Kyrgyz; Kyrgyzstani; Kyrgyzstanis
        Laos | Lao PDR | Laotian; Laotians
        Latvia | | Latvian; Latvians
        Lebanon | | Lebanese
        Lesotho | | Basotho; Mosotho
        Liberia | | Liberian; Liberians
        Libya | | Libyan; Libyans
        Liechtenstein | | Liechtensteiner; Liechtensteiners
        Lithuania | | Lithuanian; Lithuanians
        Luxembourg | | Luxembourger; Luxembourgers; Luxembourgish
        Madagascar | | Malagasy
        Malawi | | Malawian; Malawians
        Malaysia | | Malaysian; Malaysians
        Maldives | | Maldivian; Maldivians
        Mali | | Malian; Malians
        Malta | | Maltese
        Marshall Islands | | Marshallese
        Mauritania | | Mauritanian; Mauritanians
        Mauritius | | Mauritian; Mauritians
        Mexico | | Mexican; Mexicans
        Micronesia | Federated States of Micronesia |
        Moldova | | Moldovan; Moldovans
        Monaco | | Monegasque; Monégasque
        Mongolia | | Mongolian; Mongolians
        Montenegro | | Montenegrin; Montenegrins
        Morocco | | Moroccan; Moroccans
        Mozambique | | Mozambican; Mozambicans
        Myanmar | Burma | Burmese
        Namibia | | Namibian; Namibians
        Nauru | | Nauruan; Nauruans
        Nepal | | Nepali; Nepalis; Nepalese
        Netherlands | Holland | Dutch
        New Zealand | | New Zealander; New Zealanders
        Nicaragua | | Nicaraguan; Nicaraguans
        Niger | | Nigerien; Nigeriens
        Nigeria | | Nigerian; Nigerians
        North Korea | Democratic People’s Republic of Korea; DPRK | North Korean; North Koreans
        North Macedonia | | North Macedonian; North Macedonians
        Norway | | Norwegian; Norwegians
        Oman | | Omani; Omanis
        Pakistan | | Pakistani; Pakistanis
        Palau | | Palauan; Palauans
        Panama | | Panamanian; Panamanians
        Papua New Guinea | PNG | Papua New Guinean; Papua New Guineans
        Paraguay | | Paraguayan; Paraguayans
        Peru | | Peruvian; Peruvians
        Philippines | | Filipino; Filipinos; Filipina; Philippine
        Poland | | Polish
        Portugal | | Portuguese
        Qatar | | Qatari; Qataris
        Republic of the Congo | Republic of Congo; Congo-Brazzaville |
        Romania | | Romanian; Romanians
        Russia | Russian Federation | Russian; Russians
        Rwanda | | Rwandan; Rwandans
        Saint Kitts and Nevis | St Kitts and Nevis; St. Kitts and Nevis | Kittitian; Kittitians
        Saint Lucia | St Lucia; St. Lucia | Saint Lucian; Saint Lucians
        Saint Vincent and the Grenadines | St Vincent and the Grenadines; St. Vincent and the Grenadines | Vincentian; Vincentians
        Samoa | | Samoan; Samoans
        San Marino | | Sammarinese
        Sao Tome and Principe | São Tomé and Príncipe | Santomean; Santomeans
        Saudi Arabia | | Saudi; Saudis
        Senegal | | Senegalese
        Serbia | | Serbian; Serbians; Serb; Serbs
        Seychelles | | Seychellois
        Sierra Leone | | Sierra Leonean; Sierra Leoneans
        Singapore | | Singaporean; Singaporeans
        Slovakia | | Slovak; Slovaks; Slovakian
        Slovenia | | Slovenian; Slovenians; Slovene; Slovenes
        Solomon Islands | | Solomon Islander; Solomon Islanders
        Somalia | | Somali; Somalis
        South Africa | | South African; South Africans
        South Korea | Republic of Korea; ROK | South Korean; South Koreans
        South Sudan | | South Sudanese
        Spain | | Spanish; Spaniard; Spaniards
        Sri Lanka | | Sri Lankan; Sri Lankans
        Sudan | | Sudanese
        Suriname | | Surinamese
        Sweden | | Swedish; Swede; Swedes
        Switzerland | | Swiss
        Syria | Syrian Arab Republic | Syrian; Syrians
        Tajikistan | | Tajik; Tajiks; Tajikistani
        Tanzania | | Tanzanian; Tanzanians
        Thailand | | Thai; Thais
        Togo | | Togolese
        Tonga | | Tongan; Tongans
        Trinidad and Tobago | | Trinidadian; Trinidadians; Tobagonian
        Tunisia | | Tunisian; Tunisians
        Turkey | Türkiye; Turkiye; Republic of Türkiye | Turkish; Turk; Turks
        Turkmenistan | | Turkmen
        Tuvalu | | Tuvaluan; Tuvaluans
        Uganda | | Ugandan; Ugandans
        Ukraine | | Ukrainian; Ukrainians
        United Arab Emirates | UAE; U.A.E. | Emirati; Emiratis
        United Kingdom | UK; U.K.; Britain; Great Britain; England; Scotland; Wales; Northern Ireland | British; Briton; Britons; Scottish; Welsh; Northern Irish
        United States | United States of America; US; U.S.; USA; U.S.A.; America | American; Americans
        Uruguay | | Uruguayan; Uruguayans
        Uzbekistan | | Uzbek; Uzbeks; Uzbekistani
        Vanuatu | | Ni-Vanuatu
        Venezuela | | Venezuelan; Venezuelans
        Vietnam | Viet Nam | Vietnamese
        Yemen | | Yemeni; Yemenis
        Zambia | | Zambian; Zambians
        Zimbabwe | | Zimbabwean; Zimbabweans
        Taiwan | | Taiwanese
        Kosovo | | Kosovar; Kosovars; Kosovan; Kosovans
        Palestine | State of Palestine | Palestinian; Palestinians
        Vatican City | Vatican; Holy See |
        Western Sahara | | Sahrawi; Sahrawis
        """

    /// Matches of these forms are dropped when the word just before (or after) is one of those listed
    /// (`Latin America`, `New Mexico`, `Indian Ocean`), case-sensitive, exactly as printed in
    /// Protocol/06-extraction.md §Countries.
    static let blockTable = """
        America | Latin; South; North; Central |
        American | Latin; South; North; Central; Pan |
        Americans | Latin; South; North; Central |
        Guinea | New |
        Mexico | New |
        Wales | South |
        Georgia | South |
        Samoa | American |
        Indian | American | Ocean
        Indians | American |
        """

    /// Forms that are also personal names: dropped when the word just before or after is a
    /// capitalized word that is not a function word, month, weekday or country (`Michael Jordan`).
    static let personalNameFormList = "Jordan Chad Georgia Israel"
    static let personalNameForms: Set<String> = Lexicon.words(personalNameFormList)
}
