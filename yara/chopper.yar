// China Chopper and its ASP.NET variants, as seen on Exchange servers in 2021.
// Written by the exhunt team from public descriptions:
//  - Microsoft, "HAFNIUM targeting Exchange Servers with 0-day exploits" (2021-03-02)
//  - FireEye/Mandiant, "Breaking Down the China Chopper Web Shell" (2013) and the 2021 Exchange write-ups
//  - CISA AA21-062A (China Chopper one-liners in OAB ExternalUrl and aspnet_client)

rule exhunt_chopper_jscript_eval_request
{
    meta:
        description = "China Chopper style ASP.NET one-liner: eval() of request data with the 'unsafe' flag"
        reference = "https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003"
        severity = "critical"
    strings:
        $eval_req = /eval\s*\(\s*(System\.Web\.HttpContext\.Current\.|HttpContext\.Current\.|Context\.|this\.)?Request\s*(\.\s*(Item|Form|QueryString|Params|Headers|Cookies)\s*)?[\[\(]/ nocase ascii wide
        $unsafe = /["']unsafe["']/ nocase ascii wide
    condition:
        filesize < 2MB and $eval_req and $unsafe
}

rule exhunt_chopper_jscript_page_eval
{
    meta:
        description = "JScript ASP.NET page that passes request data to eval(): China Chopper server side"
        reference = "https://www.mandiant.com/resources/blog/breaking-down-the-china-chopper-web-shell-part-i"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003"
        severity = "critical"
    strings:
        $lang1 = /Language\s*=\s*["']?\s*J(ava)?Script/ nocase ascii wide
        $lang2 = /<script[^>]{0,80}language\s*=\s*["']?J(ava)?Script[^>]{0,80}runat\s*=\s*["']?server/ nocase ascii wide
        $lang3 = /<script[^>]{0,80}runat\s*=\s*["']?server[^>]{0,80}language\s*=\s*["']?J(ava)?Script/ nocase ascii wide
        $eval_req = /eval\s*\(\s*(System\.Web\.HttpContext\.Current\.|HttpContext\.Current\.|Context\.)?Request\s*(\.\s*(Item|Form|QueryString|Params)\s*)?[\[\(]/ nocase ascii wide
    condition:
        filesize < 2MB and any of ($lang*) and $eval_req
}

rule exhunt_chopper_base64_eval
{
    meta:
        description = "JScript ASP.NET page decoding base64 and eval()-ing the result (encoded China Chopper variant)"
        reference = "https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003 attack.defense_evasion attack.t1140"
        severity = "high"
    strings:
        $lang = /Language\s*=\s*["']?\s*J(ava)?Script/ nocase ascii wide
        $b64 = "FromBase64String(" nocase ascii wide
        $eval1 = /eval\s*\(\s*System\.Text\.Encoding\./ nocase ascii wide
        $eval2 = /eval\s*\([^)]{0,200}FromBase64String/ nocase ascii wide
        $unsafe = /["']unsafe["']/ nocase ascii wide
    condition:
        filesize < 2MB and $lang and $b64 and (any of ($eval*) or $unsafe)
}

rule exhunt_chopper_obfuscated_unsafe
{
    meta:
        description = "Obfuscated JScript page: hex-named (_0x) identifiers together with the 'unsafe' eval flag"
        reference = "https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003 attack.defense_evasion attack.t1027"
        severity = "high"
    strings:
        $page = /(<%@|runat\s*=\s*["']?server)/ nocase ascii wide
        $hexid = /_0x[0-9a-f]{4,6}/ nocase ascii wide
        $unsafe = /["']unsafe["']/ nocase ascii wide
        $eval = "eval(" nocase ascii wide
    condition:
        filesize < 1MB and $page and #hexid > 3 and $unsafe and $eval
}
