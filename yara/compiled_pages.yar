import "pe"

// Compiled ASP.NET pages (Temporary ASP.NET Files) built from webshells.
// Written by the exhunt team from public descriptions: BSI/CERT-Bund notes on HAFNIUM-era webshells
// compiled into App_Web_*.dll referencing ~/aspnet_client/ or ~/auth/ pages and JScript evaluation
// (Microsoft.JScript.Eval.JScriptEvaluate), and Microsoft's guidance to inspect
// %WINDIR%\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files after the 2021 campaign.

private rule exhunt_pe_file
{
    meta:
        description = "Helper: Windows PE file"
        author = "exhunt team"
    condition:
        uint16(0) == 0x5A4D and uint32(uint32(0x3C)) == 0x00004550
}

rule exhunt_compiled_page_jscript_eval
{
    meta:
        description = "Compiled ASP.NET page (App_Web_*.dll) from an aspnet_client or auth page that evaluates JScript (compiled China Chopper)"
        reference = "https://www.microsoft.com/security/blog/2021/03/25/analyzing-attacks-taking-advantage-of-the-exchange-server-vulnerabilities/"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003"
        severity = "critical"
    strings:
        $app = "App_Web_" ascii wide
        $p1 = "~/aspnet_client/" nocase ascii wide
        $p2 = "~/auth/" nocase ascii wide
        $p3 = "/owa/auth/" nocase ascii wide
        $p4 = "/ecp/auth/" nocase ascii wide
        $j1 = "JScriptEvaluate" ascii wide
        $j2 = "Microsoft.JScript" ascii wide
    condition:
        exhunt_pe_file and filesize < 5MB and $app and any of ($p*) and any of ($j*)
}

rule exhunt_compiled_page_from_aspnet_client
{
    meta:
        description = "Compiled ASP.NET page built from a file under /aspnet_client/ (a folder that normally holds no pages)"
        reference = "https://www.cisa.gov/news-events/cybersecurity-advisories/aa21-062a"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003"
        severity = "high"
    strings:
        $app = "App_Web_" ascii wide
        $p1 = /\/aspnet_client\/[^\x00\/]{1,64}\.as[hmp]x/ nocase ascii wide
    condition:
        exhunt_pe_file and filesize < 5MB and $app and $p1
}

rule exhunt_compiled_page_exec
{
    meta:
        description = "Compiled ASP.NET page that starts cmd.exe/powershell or loads assemblies (compiled command webshell)"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003 attack.execution attack.t1059"
        severity = "high"
    strings:
        $app = "App_Web_" ascii wide
        $page = "System.Web.UI.Page" ascii wide
        $e1 = "ProcessStartInfo" ascii wide
        $e2 = "cmd.exe" nocase ascii wide
        $e3 = "powershell" nocase ascii wide
        $e4 = "FromBase64String" ascii wide
        $e5 = "CreateDecryptor" ascii wide
        $l1 = "get_Request" ascii
        $l2 = "Assembly" ascii
    condition:
        exhunt_pe_file and filesize < 5MB and $app and $page and $l1 and
        (($e1 and ($e2 or $e3)) or ($e4 and $e5 and $l2))
}

rule exhunt_dll_in_aspnet_temp_folder
{
    meta:
        description = "Native (non-.NET) PE file in a Temporary ASP.NET Files folder, where ASP.NET only writes managed build output"
        reference = "https://www.microsoft.com/security/blog/2021/03/25/analyzing-attacks-taking-advantage-of-the-exchange-server-vulnerabilities/"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003 attack.defense_evasion attack.t1036"
        severity = "medium"
    condition:
        exhunt_pe_file and filepath matches /Temporary ASP\.NET Files/i and
        pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_COM_DESCRIPTOR].virtual_address == 0
}
