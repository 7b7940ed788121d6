/**
 * @module
 * HELPERS: every helper module of this build, in the load order of contract §11.2. Adding a
 * helper means adding its definition here; its functions join the whitelist automatically.
 */

import { cryptoHelper } from "./crypto/mod.ts";
import { databaseHelper } from "./database/mod.ts";
import { datetimeHelper } from "./datetime_helper.ts";
import { excelHelper } from "./excel/mod.ts";
import { ftpHelper } from "./ftp_helper/mod.ts";
import { httpHelper } from "./http_helper/mod.ts";
import { lockfileHelper } from "./lockfile/mod.ts";
import { loggingHelper } from "./logging_helper/mod.ts";
import { xmlDomHelper } from "./xml_dom_helper/mod.ts";
import { xmlHelper } from "./xml_helper/mod.ts";
import { xpathHelper } from "./xpath.ts";
import { emailHelper } from "./email_helper.ts";
import { opensshHelper } from "./openssh.ts";
import { sftpHelper } from "./sftp/mod.ts";
import { smtpHelper } from "./smtp_helper/mod.ts";
import type { HelperDefinition } from "./types.ts";

export const HELPERS: readonly HelperDefinition[] = [
  databaseHelper,
  xmlHelper,
  xmlDomHelper,
  xpathHelper,
  httpHelper,
  datetimeHelper,
  cryptoHelper,
  ftpHelper,
  excelHelper,
  lockfileHelper,
  loggingHelper,
  opensshHelper,
  emailHelper,
  smtpHelper,
  sftpHelper,
];
