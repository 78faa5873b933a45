# UNTESTED: thin PowerShell twin of scripts/smoke-remote (nothing on our build machines runs PowerShell).
# It forwards every argument to the bash script, so behaviour, flags and secret handling are
# identical; it needs a bash on PATH (Git for Windows or WSL). Run: pwsh scripts/smoke-remote.ps1 --help
$ErrorActionPreference = "Stop"
$Script = Join-Path $PSScriptRoot "smoke-remote"
$Bash = Get-Command bash -ErrorAction SilentlyContinue
if (-not $Bash) {
    Write-Error "scripts/smoke-remote.ps1 needs bash (install Git for Windows or use WSL), then run it again."
    exit 1
}
$Forward = @($args)
& $Bash.Source $Script @Forward
exit $LASTEXITCODE
