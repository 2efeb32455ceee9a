/* import_tectia.h — `ftp-tunnel import-tectia FILE`: SSH Tectia's
 * ssh-broker-config.xml printed as native Profile blocks. */
#ifndef IMPORT_TECTIA_H
#define IMPORT_TECTIA_H

/* argv[0] is "import-tectia", argv[1] the file. Prints the configuration
 * on stdout, warnings and errors on stderr. Returns the exit status: 0,
 * or 2 for a bad configuration or bad arguments. */
int import_tectia_main(int argc, char **argv);

#endif
