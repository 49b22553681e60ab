// Webshells that exploit Exchange's own file writers (2021 campaigns).
// Written by the exhunt team from public descriptions:
//  - CVE-2021-27065: Set-OabVirtualDirectory ExternalUrl holding a script, then "Reset virtual directory"
//    writes the OAB virtual directory settings as a text file into a web folder
//    (Microsoft HAFNIUM blog 2021-03-02; Volexity 2021-03-02; CISA AA21-062A).
//  - ProxyShell (CVE-2021-34473/34523/31207): New-MailboxExportRequest writes a PST ("!BDN" magic)
//    named .aspx; the script was sent pre-encoded with the PST permutative encoding so that it lands
//    in the file as plain text (Orange Tsai, Black Hat USA 2021; Peter Jurgensen/Huntress 2021-08;
//    MS-PST section 5.1 for the encoding table).
//  - ProxyShell variant: New-ExchangeCertificate -RequestFile writes a DER certificate request
//    (0x30 0x82 at offset 0) whose subject holds the script.

rule exhunt_oab_vdir_config_script
{
    meta:
        description = "OAB virtual-directory settings dump with a script in ExternalUrl/InternalUrl (CVE-2021-27065 webshell)"
        reference = "https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.initial_access attack.t1190 attack.persistence attack.t1505.003"
        severity = "critical"
    strings:
        $f1 = "ExternalUrl" nocase ascii wide
        $f2 = "InternalAuthenticationMethods" nocase ascii wide
        $f3 = "ExtendedProtectionTokenChecking" nocase ascii wide
        $f4 = "OfflineAddressBooks" nocase ascii wide
        $f5 = "ExternalAuthenticationMethods" nocase ascii wide
        $f6 = "PollInterval" nocase ascii wide
        $f7 = "RequireSSL" nocase ascii wide
        $url_script = /(External|Internal)Url\s*:?\s*[^\r\n]{0,300}<script/ nocase ascii wide
        $script = /<script[^>]{0,120}runat/ nocase ascii wide
    condition:
        filesize < 5MB and 3 of ($f*) and ($url_script or $script)
}

rule exhunt_proxyshell_pst_aspx
{
    meta:
        description = "PST file (!BDN magic) carrying a server-side script: mailbox export written as a webshell (ProxyShell)"
        reference = "https://www.huntress.com/blog/rapid-response-microsoft-exchange-servers-still-vulnerable-to-proxyshell-exploit"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.initial_access attack.t1190 attack.persistence attack.t1505.003"
        severity = "critical"
    strings:
        $plain1 = /<script[^>]{0,120}runat/ nocase ascii wide
        $plain2 = /<%@\s*Page/ nocase ascii wide
        $plain3 = /Request\s*(\.\s*(Item|Form|QueryString)\s*)?\[/ nocase ascii
        // "<script" and "<%@" run through the inverse of the MS-PST permutation (mpbbI):
        // the bytes an attacker mails so that the export writes the plain text.
        $enc_script = { 95 D6 54 86 B7 69 14 }
        $enc_page = { 95 37 D1 }
    condition:
        uint32(0) == 0x4E444221 and filesize < 50MB and
        (any of ($plain*) or $enc_script or (#enc_page > 0 and extension matches /^aspx?$/i))
}

rule exhunt_proxyshell_pst_in_web_folder
{
    meta:
        description = "PST file (!BDN magic) stored with an ASP.NET extension: mailbox export dropped as a page (ProxyShell)"
        reference = "https://www.huntress.com/blog/rapid-response-microsoft-exchange-servers-still-vulnerable-to-proxyshell-exploit"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003"
        severity = "high"
    condition:
        uint32(0) == 0x4E444221 and extension matches /^(aspx?|ashx|asmx|asax|config)$/i
}

rule exhunt_proxyshell_der_csr_aspx
{
    meta:
        description = "DER-encoded certificate request carrying a server-side script, or stored as an ASP.NET page (ProxyShell variant)"
        reference = "https://www.huntress.com/blog/rapid-response-microsoft-exchange-servers-still-vulnerable-to-proxyshell-exploit"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003"
        severity = "critical"
    strings:
        $s1 = /<script[^>]{0,120}runat/ nocase ascii wide
        $s2 = /<%@\s*Page/ nocase ascii wide
        $s3 = /<%\s*(eval|Response|Request)/ nocase ascii wide
    condition:
        uint16be(0) == 0x3082 and filesize < 1MB and
        (any of them or extension matches /^(aspx?|ashx|asmx)$/i)
}
