// Webshell families common in intrusions by Chinese-speaking actors, written by the exhunt team
// from public descriptions:
//  - ASPXSpy: FireEye/Mandiant and Microsoft reports on the ASPXSpy shell (banner "ASPXSpy", Bin_ control names)
//  - Godzilla: Palo Alto Unit 42, "ManageEngine ... Godzilla" (2021-11); Fortinet and AhnLab write-ups:
//    AES (Rijndael) with a key from md5(pass+key), payload kept in Session, Assembly.Load, "LY" class
//  - Behinder / Rebeyond ("Ice Scorpion"): AES key stored in Session, Request.BinaryRead, Assembly.Load,
//    default key = first 16 hex chars of md5("rebeyond") (public tool documentation and analyses)

rule exhunt_aspxspy
{
    meta:
        description = "ASPXSpy webshell (file manager, command, registry and database console)"
        reference = "https://www.mandiant.com/resources/blog/apt10-targeting-japanese-corporations-using-updated-ttps"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003"
        severity = "critical"
    strings:
        $name = "ASPXSpy" nocase ascii wide
        $b1 = /\bBin_[A-Za-z]{2,20}/ ascii wide
        $page = /(<%@\s*Page|runat\s*=\s*["']?server)/ nocase ascii wide
    condition:
        filesize < 5MB and $page and ($name and #b1 > 2 or #b1 > 15)
}

rule exhunt_godzilla_aspx
{
    meta:
        description = "Godzilla ASP.NET shell: AES-decrypted request payload loaded with Assembly.Load and kept in Session"
        reference = "https://unit42.paloaltonetworks.com/manageengine-godzilla-nglite-kdcsponge/"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003 attack.defense_evasion attack.t1620 attack.command_and_control attack.t1573.001"
        severity = "critical"
    strings:
        $aes1 = "RijndaelManaged" nocase ascii wide
        $aes2 = /Aes(Managed|CryptoServiceProvider)|Aes\.Create/ nocase ascii wide
        $load1 = /Assembly\s*\)?\s*\.\s*Load\s*\(/ nocase ascii wide
        $load2 = /GetMethod\s*\(\s*"Load"/ ascii wide
        $sess = /Session\s*\[\s*["'][A-Za-z0-9_]{1,20}["']\s*\]/ ascii wide
        $md5 = /MD5(CryptoServiceProvider|\.Create)/ nocase ascii wide
        $req = /Request\s*(\.\s*(Item|Form|Params)\s*)?\[/ nocase ascii wide
        $ly = "CreateInstance(\"LY\")" ascii wide
        $sub1 = /\.Substring\s*\(\s*0\s*,\s*16\s*\)/ ascii wide
        $sub2 = /\.Substring\s*\(\s*16\s*\)/ ascii wide
    condition:
        filesize < 2MB and any of ($load*) and (
            $ly or
            (any of ($aes*) and $sess and $md5 and $req) or
            (any of ($aes*) and $req and all of ($sub*))
        )
}

rule exhunt_behinder_aspx
{
    meta:
        description = "Behinder (Rebeyond) ASP.NET shell: Session-held AES key, Request.BinaryRead, Assembly.Load of the decrypted body"
        reference = "https://www.mandiant.com/resources/blog/chinese-espionage-group-targets-mobile-devices"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003 attack.defense_evasion attack.t1620 attack.command_and_control attack.t1573.001"
        severity = "critical"
    strings:
        $bin = /Request\s*\.\s*BinaryRead\s*\(/ nocase ascii wide
        $load = /Assembly\s*\)?\s*\.\s*Load\s*\(/ nocase ascii wide
        $aes1 = "RijndaelManaged" nocase ascii wide
        $aes2 = "CreateDecryptor" nocase ascii wide
        $sess = /Session\s*(\.\s*Add\s*\(|\[)/ ascii wide
        $defkey = "e45e329feb5d925b" ascii wide
    condition:
        filesize < 2MB and (
            $defkey and ($load or $bin) or
            ($bin and $load and any of ($aes*) and $sess)
        )
}
