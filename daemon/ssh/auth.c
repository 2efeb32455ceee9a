/* auth.c — resumable SSH authentication. Each step repeats its libssh2 call
 * after EAGAIN with the same arguments, as libssh2 requires. */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "home.h"
#include "log.h"
#include "tty.h"

enum auth_phase {
	AUTH_LIST,
	AUTH_AGENT_START,
	AUTH_AGENT_TRY,
	AUTH_KEY_START,
	AUTH_KEY_TRY,
	AUTH_KBDINT,
	AUTH_PASSWORD_START,
	AUTH_PASSWORD_TRY,
	AUTH_GIVEN_KBDINT, /* SftpLogin=ftp: the FTP password only */
	AUTH_GIVEN_PASSWORD,
	AUTH_FAILED,
	AUTH_DONE,
};

struct auth {
	LIBSSH2_SESSION *raw;
	const struct ssh_opts *o;
	char label[300];
	enum auth_phase phase;
	char offered[256]; /* methods the server offers */
	char tried[512];   /* what we tried, for the error message */
	char error[2048];
	LIBSSH2_AGENT *agent;
	struct libssh2_agent_publickey *identity;
	int key_index; /* into the list of identity files */
	char *keys[SSH_MAX_IDENTITIES + 4];
	int nkeys;
	char passphrase[256];
	char password[256];
	int typed; /* somebody was asked for a passphrase or a password */
};

static void note_tried(struct auth *a, const char *what)
{
	size_t n = strlen(a->tried);

	if (strstr(a->tried, what))
		return;
	snprintf(a->tried + n, sizeof(a->tried) - n, "%s%s", n ? ", " : "",
		 what);
}

static int offered(const struct auth *a, const char *method)
{
	const char *p = a->offered;
	size_t len = strlen(method);

	while ((p = strstr(p, method))) {
		if ((p == a->offered || p[-1] == ',') &&
		    (p[len] == ',' || p[len] == '\0'))
			return 1;
		p += len;
	}
	return 0;
}

struct auth *auth_new(LIBSSH2_SESSION *raw, const struct ssh_opts *o,
		      const char *label)
{
	static const char *const defaults[] = {
	    "~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"};
	struct auth *a = calloc(1, sizeof(*a));
	int i;

	if (!a)
		return NULL;
	a->raw = raw;
	a->o = o;
	snprintf(a->label, sizeof(a->label), "%s", label);
	for (i = 0; i < o->nidentities; i++)
		a->keys[a->nkeys++] = home_expand(o->identities[i]);
	if (!o->nidentities)
		for (i = 0; i < (int)(sizeof(defaults) / sizeof(*defaults));
		     i++) {
			char *p = home_expand(defaults[i]);

			if (p && access(p, R_OK) == 0)
				a->keys[a->nkeys++] = p;
			else
				free(p);
		}
	return a;
}

int auth_typed(const struct auth *a)
{
	return a->typed;
}

void auth_free(struct auth *a)
{
	int i;

	if (!a)
		return;
	if (a->agent) {
		libssh2_agent_disconnect(a->agent);
		libssh2_agent_free(a->agent);
	}
	for (i = 0; i < a->nkeys; i++)
		free(a->keys[i]);
	explicit_bzero(a->passphrase, sizeof(a->passphrase));
	explicit_bzero(a->password, sizeof(a->password));
	free(a);
}

const char *auth_error(const struct auth *a)
{
	return a->error;
}

static int can_prompt(const struct auth *a)
{
	return !a->o->batch_mode && !a->o->no_auth_prompt && tty_available();
}

static void kbdint_cb(const char *name, int name_len, const char *instruction,
		      int instruction_len, int num_prompts,
		      const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
		      LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses,
		      void **abstract)
{
	int i;

	(void)name;
	(void)name_len;
	(void)instruction;
	(void)instruction_len;
	(void)abstract;
	for (i = 0; i < num_prompts; i++) {
		char prompt[512], answer[256];

		snprintf(prompt, sizeof(prompt), "%.*s", (int)prompts[i].length,
			 prompts[i].text);
		if (tty_ask(prompt, prompts[i].echo, answer, sizeof(answer)) <
		    0)
			answer[0] = '\0';
		responses[i].text = strdup(answer);
		responses[i].length =
		    responses[i].text ? (unsigned)strlen(answer) : 0;
		explicit_bzero(answer, sizeof(answer));
	}
}

/* SftpLogin=ftp: every keyboard-interactive prompt is answered with the
 * FTP client's password (the session's abstract pointer is its struct
 * ssh_sess, ssh.c). */
static void kbdint_given_cb(const char *name, int name_len,
			    const char *instruction, int instruction_len,
			    int num_prompts,
			    const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
			    LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses,
			    void **abstract)
{
	const struct ssh_opts *o = ssh_sess_opts(*abstract);
	int i;

	(void)name;
	(void)name_len;
	(void)instruction;
	(void)instruction_len;
	(void)prompts;
	for (i = 0; i < num_prompts; i++) {
		responses[i].text = strdup(o->login_password);
		responses[i].length =
		    responses[i].text ? (unsigned)strlen(o->login_password) : 0;
	}
}

static void fail_given(struct auth *a)
{
	snprintf(a->error, sizeof(a->error),
		 "Permission denied for %s: the FTP login's password was "
		 "refused (tried %s; the server offers %s)",
		 a->label, a->tried[0] ? a->tried : "nothing",
		 a->offered[0] ? a->offered : "(none)");
	a->phase = AUTH_FAILED;
}

static void fail(struct auth *a)
{
	snprintf(a->error, sizeof(a->error),
		 "Permission denied for %s: tried %s; the server offers %s.%s",
		 a->label, a->tried[0] ? a->tried : "nothing",
		 a->offered[0] ? a->offered : "(none)",
		 can_prompt(a) ? ""
		 : a->o->no_auth_prompt
		     ? " The daemon cannot ask for a passphrase or a "
		       "password: load the key into ssh-agent (ssh-add) or "
		       "give an unencrypted key with -i."
		     : " Give a key with -i or load one into ssh-agent (no "
		       "terminal to ask for a password).");
	a->phase = AUTH_FAILED;
}

/* Whether an agent key may be offered: always, unless IdentitiesOnly,
 * which (as in OpenSSH) limits the agent to the keys of the identity
 * files, matched by the public key in "<file>.pub". */
static int agent_key_allowed(const struct auth *a,
			     const struct libssh2_agent_publickey *id)
{
	char path[4200], line[8192], *b64, *end;
	unsigned char blob[6144];
	int i, n;

	if (!a->o->identities_only)
		return 1;
	for (i = 0; i < a->nkeys; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s.pub", a->keys[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		n = fgets(line, sizeof(line), f) ? 1 : 0;
		fclose(f);
		if (!n || !(b64 = strchr(line, ' ')))
			continue;
		b64++;
		end = b64 + strcspn(b64, " \n");
		*end = '\0';
		if ((size_t)(end - b64) / 4 * 3 > sizeof(blob))
			continue;
		n = EVP_DecodeBlock(blob, (unsigned char *)b64,
				    (int)(end - b64));
		/* EVP_DecodeBlock counts base64 padding as bytes. */
		if (n > 0 && end > b64 && end[-1] == '=')
			n--;
		if (n > 0 && end - b64 > 1 && end[-2] == '=')
			n--;
		if (n > 0 && (size_t)n == id->blob_len &&
		    !memcmp(blob, id->blob, id->blob_len))
			return 1;
	}
	return 0;
}

/* One step of the agent phase. */
static int agent_step(struct auth *a)
{
	const char *user = a->o->user;
	int rc;

	if (a->phase == AUTH_AGENT_START) {
		a->phase = AUTH_KEY_START;
		if (!getenv("SSH_AUTH_SOCK") || !offered(a, "publickey"))
			return 1;
		a->agent = libssh2_agent_init(a->raw);
		/* The agent is a local socket: these calls are quick. */
		if (!a->agent || libssh2_agent_connect(a->agent) ||
		    libssh2_agent_list_identities(a->agent)) {
			log_debug("sess %s: ssh-agent not usable", a->label);
			return 1;
		}
		a->identity = NULL;
		do {
			if (libssh2_agent_get_identity(a->agent, &a->identity,
						       a->identity))
				return 1;
		} while (!agent_key_allowed(a, a->identity));
		note_tried(a, "ssh-agent");
		a->phase = AUTH_AGENT_TRY;
	}
	rc = libssh2_agent_userauth(a->agent, user, a->identity);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	if (rc == 0) {
		log_info("sess %s: authenticated with agent key %s", a->label,
			 a->identity->comment ? a->identity->comment : "");
		a->phase = AUTH_DONE;
		return 0;
	}
	do {
		if (libssh2_agent_get_identity(a->agent, &a->identity,
					       a->identity)) {
			a->phase = AUTH_KEY_START;
			break;
		}
	} while (!agent_key_allowed(a, a->identity));
	return 1;
}

static int key_step(struct auth *a)
{
	const char *user = a->o->user;
	char *path;
	int rc;

	if (a->phase == AUTH_KEY_START) {
		if (a->key_index >= a->nkeys || !offered(a, "publickey")) {
			a->phase = AUTH_KBDINT;
			return 1;
		}
		if (access(a->keys[a->key_index], R_OK) != 0) {
			log_warn("sess %s: identity file %s: %s", a->label,
				 a->keys[a->key_index], strerror(errno));
			a->key_index++;
			return 1;
		}
		a->passphrase[0] = '\0';
		a->phase = AUTH_KEY_TRY;
	}
	path = a->keys[a->key_index];
	rc = libssh2_userauth_publickey_fromfile_ex(
	    a->raw, user, (unsigned)strlen(user), NULL, path, a->passphrase);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	note_tried(a, path);
	if (rc == 0) {
		log_info("sess %s: authenticated with key %s", a->label, path);
		a->phase = AUTH_DONE;
		return 0;
	}
	/* An encrypted key fails to load without its passphrase. */
	if ((rc == LIBSSH2_ERROR_FILE ||
	     rc == LIBSSH2_ERROR_KEYFILE_AUTH_FAILED) &&
	    !a->passphrase[0] && can_prompt(a)) {
		char prompt[4200];

		snprintf(prompt, sizeof(prompt),
			 "Enter passphrase for key '%s': ", path);
		if (tty_ask(prompt, 0, a->passphrase, sizeof(a->passphrase)) ==
			0 &&
		    a->passphrase[0]) {
			a->typed = 1;
			return 1;
		}
	}
	if (rc == LIBSSH2_ERROR_FILE)
		log_warn("sess %s: cannot load identity file %s (wrong "
			 "passphrase or unsupported format)",
			 a->label, path);
	else
		log_debug("sess %s: key %s refused", a->label, path);
	explicit_bzero(a->passphrase, sizeof(a->passphrase));
	a->key_index++;
	a->phase = AUTH_KEY_START;
	return 1;
}

/* Each step below returns 1 to go on with the phase it set,
 * LIBSSH2_ERROR_EAGAIN to be called again, or 0 (agent_step, key_step)
 * once authenticated. */

/* The methods the server offers: also whether "none" got us in. */
static int list_step(struct auth *a)
{
	const char *user = a->o->user;
	char *list =
	    libssh2_userauth_list(a->raw, user, (unsigned)strlen(user));

	if (!list) {
		if (libssh2_userauth_authenticated(a->raw)) {
			a->phase = AUTH_DONE;
			return 1;
		}
		if (libssh2_session_last_errno(a->raw) == LIBSSH2_ERROR_EAGAIN)
			return LIBSSH2_ERROR_EAGAIN;
		fail(a);
		return 1;
	}
	snprintf(a->offered, sizeof(a->offered), "%s", list);
	log_debug("sess %s: server offers %s", a->label, list);
	/* With the FTP login's password, that password alone: an agent or
	 * a key of ours must never log somebody in who typed a wrong
	 * one. */
	a->phase = a->o->login_given ? AUTH_GIVEN_KBDINT : AUTH_AGENT_START;
	return 1;
}

/* keyboard-interactive, cb answering the prompts: phase `refused` when
 * the server says no. */
static int kbdint_try(struct auth *a,
		      LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC((*cb)),
		      enum auth_phase refused)
{
	const char *user = a->o->user;
	int rc = libssh2_userauth_keyboard_interactive_ex(
	    a->raw, user, (unsigned)strlen(user), cb);

	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	note_tried(a, "keyboard-interactive");
	a->phase = rc == 0 ? AUTH_DONE : refused;
	return 1;
}

/* password pw; when the server says no, refused() ends the login. */
static int password_try(struct auth *a, const char *pw,
			void (*refused)(struct auth *a))
{
	const char *user = a->o->user;
	int rc =
	    libssh2_userauth_password_ex(a->raw, user, (unsigned)strlen(user),
					 pw, (unsigned)strlen(pw), NULL);

	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	note_tried(a, "password");
	if (rc == 0)
		a->phase = AUTH_DONE;
	else
		refused(a);
	return 1;
}

/* keyboard-interactive, its prompts answered on the terminal. */
static int kbdint_step(struct auth *a)
{
	if (!offered(a, "keyboard-interactive") || !can_prompt(a)) {
		a->phase = AUTH_PASSWORD_START;
		return 1;
	}
	a->typed = 1; /* kbdint_cb asks on the terminal */
	return kbdint_try(a, kbdint_cb, AUTH_PASSWORD_START);
}

/* The password, asked on the terminal once. */
static int password_ask(struct auth *a)
{
	char prompt[512];

	if (!offered(a, "password") || !can_prompt(a)) {
		fail(a);
		return 1;
	}
	snprintf(prompt, sizeof(prompt), "%s's password: ", a->label);
	if (tty_ask(prompt, 0, a->password, sizeof(a->password)) < 0) {
		fail(a);
		return 1;
	}
	a->typed = 1;
	a->phase = AUTH_PASSWORD_TRY;
	return 1;
}

static int password_step(struct auth *a)
{
	int rc = password_try(a, a->password, fail);

	if (rc != LIBSSH2_ERROR_EAGAIN)
		explicit_bzero(a->password, sizeof(a->password));
	return rc;
}

/* SftpLogin=ftp: keyboard-interactive answered with the FTP password. */
static int given_kbdint_step(struct auth *a)
{
	if (!offered(a, "keyboard-interactive")) {
		a->phase = AUTH_GIVEN_PASSWORD;
		return 1;
	}
	return kbdint_try(a, kbdint_given_cb, AUTH_GIVEN_PASSWORD);
}

/* SftpLogin=ftp: the FTP password as the SSH password. */
static int given_password_step(struct auth *a)
{
	if (!offered(a, "password")) {
		fail_given(a);
		return 1;
	}
	return password_try(a, a->o->login_password, fail_given);
}

int auth_step(struct auth *a)
{
	int rc;

	for (;;) {
		switch (a->phase) {
		case AUTH_LIST:
			rc = list_step(a);
			break;
		case AUTH_AGENT_START:
		case AUTH_AGENT_TRY:
			rc = agent_step(a);
			break;
		case AUTH_KEY_START:
		case AUTH_KEY_TRY:
			rc = key_step(a);
			break;
		case AUTH_KBDINT:
			rc = kbdint_step(a);
			break;
		case AUTH_PASSWORD_START:
			rc = password_ask(a);
			break;
		case AUTH_PASSWORD_TRY:
			rc = password_step(a);
			break;
		case AUTH_GIVEN_KBDINT:
			rc = given_kbdint_step(a);
			break;
		case AUTH_GIVEN_PASSWORD:
			rc = given_password_step(a);
			break;
		case AUTH_FAILED:
			return -1;
		case AUTH_DONE:
			return 0;
		}
		if (rc <= 0)
			return rc;
	}
}
