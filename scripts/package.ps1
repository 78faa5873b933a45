# UNTESTED: thin PowerShell twin of scripts/package (nothing on our build machines runs PowerShell).
# It forwards every argument to the bash script, so behaviour, flags and secret handling are
# identical; it needs a bash on PATH (Git for Windows or WSL). Run: pwsh scripts/package.ps1 --help
$ErrorActionPreference = "Stop"
$Script = Join-Path $PSScriptRoot "package"
$Bash = Get-Command bash -ErrorAction SilentlyContinue
if (-not $Bash) {
    Write-Error "scripts/package.ps1 needs bash (install Git for Windows or use WSL), then run it again."
    exit 1
}
# The azd Windows hook passes -AzdHook; map it to the bash flag.
$Forward = @($args | ForEach-Object { if ($_ -eq "-AzdHook") { "--azd-hook" } else { $_ } })
& $Bash.Source $Script @Forward
exit $LASTEXITCODE
