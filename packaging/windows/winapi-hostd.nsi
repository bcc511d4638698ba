; winapi-hostd.nsi - the Windows installer of winapi-hostd: the daemon, its
; manual as text, and the Windows service that runs it.
;
; Built by scripts/build-windows.sh after the .exe, with Debian's makensis:
;
;   makensis -DVERSION=0.1.0 -DSTAGE=DIR -DOUTFILE=winapi-hostd-setup.exe winapi-hostd.nsi
;
; STAGE holds what is installed: winapi-hostd.exe (stripped), README.txt,
; WINDOWS.txt and the manual pages rendered as *.txt.
;
; The setup exe installs into $PROGRAMFILES64\winapi-hostd, registers the
; service with `winapi-hostd.exe --service install [OPTIONS]` and starts it
; with sc.exe; its uninstaller stops and removes the service, then the files.
;
;   winapi-hostd-setup.exe [/S] [/OPTIONS=daemon options] [/D=DIR]
;
; /S installs silently (NSIS's own), /OPTIONS= passes options to the service
; (for instance /OPTIONS=--allow C:\winapi --listen 127.0.0.1:5858; quote an
; option with blanks inside as a command line would), /D= (last) picks the
; directory.  The exit status is 0 when the service was installed.

Unicode true
; A 64-bit installer: it runs a 64-bit program and sees the 64-bit registry
; and Program Files without redirection (and Wine needs no 32-bit half).
Target amd64-unicode
SetCompressor /SOLID lzma

!include "FileFunc.nsh"
!include "LogicLib.nsh"

!ifndef VERSION
  !error "makensis -DVERSION=X.Y.Z (scripts/build-windows.sh passes it)"
!endif
!ifndef STAGE
  !error "makensis -DSTAGE=DIR, the directory of the files to install"
!endif
!ifndef OUTFILE
  !define OUTFILE "winapi-hostd-setup.exe"
!endif

!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\winapi-hostd"

Name "winapi-hostd ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\winapi-hostd"
; Registering a service takes an administrator.
RequestExecutionLevel admin
ShowInstDetails show
ShowUninstDetails show

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

; A service of an earlier install holds its exe open: stop and remove it
; before the new exe replaces the old.
Function RemoveOldService
  ${If} ${FileExists} "$INSTDIR\winapi-hostd.exe"
    nsExec::ExecToLog '"$INSTDIR\winapi-hostd.exe" --service uninstall'
    Pop $0
  ${EndIf}
FunctionEnd

Section "winapi-hostd"
  SetOutPath "$INSTDIR"
  Call RemoveOldService
  File "${STAGE}\winapi-hostd.exe"
  File "${STAGE}\README.txt"
  File "${STAGE}\WINDOWS.txt"
  File "${STAGE}\winapi-hostd.8.txt"
  File "${STAGE}\winapifs.1.txt"
  File "${STAGE}\libwinapi.3.txt"
  File "${STAGE}\winapi-plugin.3.txt"
  ; The example plugin, and what it takes to build one (winapi-plugin(3)).
  SetOutPath "$INSTDIR\plugins"
  File "${STAGE}\plugins\search.dll"
  SetOutPath "$INSTDIR\include\winapi"
  File "${STAGE}\include\winapi\plugin.h"
  SetOutPath "$INSTDIR\examples"
  File "${STAGE}\examples\search.c"
  SetOutPath "$INSTDIR"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "winapi-hostd shared buffer host"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "winapifs"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1

  ; The service: the daemon checks the options and says what is wrong.
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/OPTIONS=" $R1
  ${If} ${Errors}
    StrCpy $R1 ""
  ${EndIf}
  DetailPrint "Registering the service winapi-hostd $R1"
  nsExec::ExecToLog '"$INSTDIR\winapi-hostd.exe" --service install $R1'
  Pop $0
  ${If} $0 != 0
    MessageBox MB_OK|MB_ICONSTOP "The service winapi-hostd could not be registered (status $0); see the details." /SD IDOK
    SetErrorLevel 2
    Abort
  ${EndIf}
  ; sc.exe comes with Windows; a start that fails leaves an installed
  ; service, which `sc start winapi-hostd` or the next boot starts.
  nsExec::ExecToLog '"$SYSDIR\sc.exe" start winapi-hostd'
  Pop $0
  ${If} $0 != 0
    DetailPrint "The service did not start (sc.exe status $0); see C:\ProgramData\winapi-hostd\winapi-hostd.log"
  ${EndIf}
SectionEnd

Section "Uninstall"
  ; Stops it first, and waits until it has stopped; gone already is fine.
  nsExec::ExecToLog '"$INSTDIR\winapi-hostd.exe" --service uninstall'
  Pop $0
  Delete "$INSTDIR\winapi-hostd.exe"
  Delete "$INSTDIR\README.txt"
  Delete "$INSTDIR\WINDOWS.txt"
  Delete "$INSTDIR\winapi-hostd.8.txt"
  Delete "$INSTDIR\winapifs.1.txt"
  Delete "$INSTDIR\libwinapi.3.txt"
  Delete "$INSTDIR\winapi-plugin.3.txt"
  Delete "$INSTDIR\plugins\search.dll"
  RMDir "$INSTDIR\plugins"
  Delete "$INSTDIR\include\winapi\plugin.h"
  RMDir "$INSTDIR\include\winapi"
  RMDir "$INSTDIR\include"
  Delete "$INSTDIR\examples\search.c"
  RMDir "$INSTDIR\examples"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  ; The service's default log, of no use without it ($APPDATA is
  ; ProgramData for all users).
  SetShellVarContext all
  Delete "$APPDATA\winapi-hostd\winapi-hostd.log"
  RMDir "$APPDATA\winapi-hostd"
  DeleteRegKey HKLM "${UNINST_KEY}"
SectionEnd
