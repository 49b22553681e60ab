// Generic ASP.NET dynamic code execution, written by the exhunt team.
// Legitimate Exchange, IIS and SharePoint pages do not evaluate request data as code; the rule asks for
// both a request-derived input and a code-execution sink in the same page to keep false positives low.
// References: CERT.LV exchange_webshell_detection keyword list; MITRE ATT&CK T1505.003.

rule exhunt_aspx_dynamic_code_execution
{
    meta:
        description = "ASP.NET page that compiles, evaluates or reflectively invokes code built from request data"
        reference = "https://attack.mitre.org/techniques/T1505/003/"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003"
        severity = "high"
    strings:
        $srv1 = /<%@\s*(Page|WebHandler|WebService|Control)\b/ nocase ascii wide
        $srv2 = /<script[^>]{0,120}runat\s*=\s*["']?server/ nocase ascii wide
        $in1 = /Request\s*(\.\s*(Item|Form|QueryString|Params|Headers|Cookies|ServerVariables)\s*)?\[/ nocase ascii wide
        $in2 = /Request\s*\.\s*(BinaryRead|InputStream|Form\s*\.\s*Get|QueryString\s*\.\s*Get)/ nocase ascii wide
        $in3 = /Request\s*\(\s*["']/ nocase ascii wide
        $x1 = /\beval\s*\([^;\r\n]{0,100}Request/ nocase ascii wide
        $x2 = "CompileAssemblyFromSource" nocase ascii wide
        $x3 = /Assembly\s*\)?\s*\.\s*Load(From|File)?\s*\(/ nocase ascii wide
        $x4 = "JScriptEvaluate" ascii wide
        $x5 = /Microsoft\s*\.\s*JScript\s*\.\s*Eval/ nocase ascii wide
        $x6 = /Activator\s*\.\s*CreateInstance\s*\(/ ascii wide
        $x7 = /\.\s*InvokeMember\s*\(/ ascii wide
        $x8 = /CSharpCodeProvider|VBCodeProvider|JScriptCodeProvider/ ascii wide
        $x9 = /\bExecute(Global)?\s*\(\s*Request/ nocase ascii wide
    condition:
        filesize < 5MB and any of ($srv*) and any of ($in*) and any of ($x*)
}

rule exhunt_aspx_bytes_before_directive
{
    meta:
        description = "Page directive preceded by binary junk: an ASP.NET page embedded in another file format (export/dump dropper artifact)"
        reference = "https://www.huntress.com/blog/rapid-response-microsoft-exchange-servers-still-vulnerable-to-proxyshell-exploit"
        author = "exhunt team"
        date = "2026-05-01"
        attack = "attack.persistence attack.t1505.003"
        severity = "high"
    strings:
        $dir = /<%@\s*Page\s+Language/ nocase ascii
        $script = /<script[^>]{0,80}language\s*=\s*["']?(JScript|C#|c#|csharp)[^>]{0,80}runat\s*=\s*["']?server/ nocase ascii
    condition:
        filesize < 20MB and
        (uint8(0) < 0x09 or (uint8(0) > 0x7F and uint16(0) != 0xBBEF and uint16(0) != 0xFEFF and uint16(0) != 0xFFFE)) and
        uint16(0) != 0x5A4D and
        (for any i in (1..#dir) : (@dir[i] > 16) or for any i in (1..#script) : (@script[i] > 16))
}
