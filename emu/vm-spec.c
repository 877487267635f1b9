/* vm-spec.c - parses and cross-checks VM descriptions: vhost-device-vsock's --vm, Cloud Hypervisor's --vsock, serve's --vm. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "options.h"
#include "vm-spec.h"

/* The keys, each with the names the forms spell it by. */
enum vm_key {
	KEY_CID, KEY_SOCKET, KEY_UDS, KEY_GROUPS, KEY_ID, KEY_IOMMU,
	KEY_PCI_SEGMENT, KEY_GUEST, KEY__COUNT
};

struct key_name {
	const char *name;
	enum vm_key key;
	unsigned forms;			/* 1 << enum vm_spec_form */
};

#define F_VHU	(1u << VM_FORM_VHOST_USER)
#define F_CH	(1u << VM_FORM_CH)
#define F_SERVE	(1u << VM_FORM_SERVE)

/*
 * vhost-device-vsock takes both guest-cid and guest_cid, uds-path and
 * uds_path (parse_vm_params()); Cloud Hypervisor cid, socket, iommu, id,
 * pci_segment; serve also answers to its own --cid / --uds names.
 */
static const struct key_name keys[] = {
	{ "guest-cid", KEY_CID, F_VHU | F_SERVE },
	{ "guest_cid", KEY_CID, F_VHU | F_SERVE },
	{ "cid", KEY_CID, F_VHU | F_CH | F_SERVE },
	{ "socket", KEY_SOCKET, F_VHU | F_CH },
	{ "uds-path", KEY_UDS, F_VHU | F_SERVE },
	{ "uds_path", KEY_UDS, F_VHU | F_SERVE },
	{ "uds", KEY_UDS, F_VHU | F_SERVE },
	{ "groups", KEY_GROUPS, F_VHU | F_SERVE },
	{ "id", KEY_ID, F_CH | F_VHU | F_SERVE },
	{ "iommu", KEY_IOMMU, F_CH },
	{ "pci_segment", KEY_PCI_SEGMENT, F_CH },
	{ "guest", KEY_GUEST, F_SERVE },
};

static const char *const form_keys[] = {
	[VM_FORM_VHOST_USER] = "guest-cid, socket, uds-path, groups, id",
	[VM_FORM_CH] = "cid, socket, iommu, id, pci_segment",
	[VM_FORM_SERVE] = "cid, uds, groups, id, guest",
};

/* The key called name in form, or KEY__COUNT. */
static enum vm_key
lookup(const char *name, enum vm_spec_form form)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0 &&
		    (keys[i].forms & (1u << form)))
			return keys[i].key;
	return KEY__COUNT;
}

/* Cloud Hypervisor's Toggle: on/off, true/false. */
static int
parse_toggle(const char *v, bool *out)
{
	if (strcmp(v, "on") == 0 || strcmp(v, "true") == 0)
		*out = true;
	else if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* serve's guest=PORT=SERVICE, as --guest takes it. */
static int
parse_guest(struct vm_spec *s, char *v, char *err, size_t errlen)
{
	struct gapp_listen_spec *g = &s->guest[s->nguest];
	char *eq = strchr(v, '=');
	uint64_t port;

	if (s->nguest == VM_SPEC_GUESTS) {
		snprintf(err, errlen, "guest=: at most %d per VM",
		    VM_SPEC_GUESTS);
		return -1;
	}
	if (eq == NULL) {
		snprintf(err, errlen, "guest='%s': want PORT=SERVICE", v);
		return -1;
	}
	*eq = '\0';
	memset(g, 0, sizeof(*g));
	if (opt_u64(v, UINT32_MAX - 1, &port) < 0 ||
	    gapp_parse_service(eq + 1, g) < 0) {
		snprintf(err, errlen, "guest='%s=%s': want PORT=SERVICE, "
		    "SERVICE echo, discard, source:BYTES or unix:PATH", v,
		    eq + 1);
		return -1;
	}
	g->port = (uint32_t)port;
	s->nguest++;
	return 0;
}

/* Stores value v of key k. */
static int
set_key(struct vm_spec *s, enum vm_key k, char *v, char *err, size_t errlen)
{
	uint64_t n;

	switch (k) {
	case KEY_CID:
		if (opt_u64(v, UINT64_MAX, &n) < 0) {
			snprintf(err, errlen, "cid '%s': not a number", v);
			return -1;
		}
		s->cid = n;
		return 0;
	case KEY_SOCKET:
		s->socket = v;
		return 0;
	case KEY_UDS:
		s->uds = v;
		return 0;
	case KEY_GROUPS:
		return vm_groups_parse(v, &s->groups, err, errlen);
	case KEY_ID:
		s->id = v;
		return 0;
	case KEY_IOMMU:
		if (parse_toggle(v, &s->iommu) == 0)
			return 0;
		snprintf(err, errlen, "iommu '%s': want on or off", v);
		return -1;
	case KEY_PCI_SEGMENT:
		if (opt_u64(v, UINT16_MAX, &n) == 0)
			return 0;
		snprintf(err, errlen, "pci_segment '%s': not a number", v);
		return -1;
	case KEY_GUEST:
		return parse_guest(s, v, err, errlen);
	default:
		return -1;
	}
}

/* The keys a form cannot do without. */
static int
check_required(const struct vm_spec *s, const bool seen[KEY__COUNT],
    enum vm_spec_form form, char *err, size_t errlen)
{
	const char *missing = NULL;

	if (!seen[KEY_CID])
		missing = form == VM_FORM_CH ? "cid" : "guest-cid";
	else if (form != VM_FORM_SERVE && s->socket == NULL)
		missing = "socket";
	else if (form != VM_FORM_CH && s->uds == NULL)
		missing = form == VM_FORM_SERVE ? "uds" : "uds-path";
	if (missing == NULL)
		return 0;
	snprintf(err, errlen, "%s= is required", missing);
	return -1;
}

int
vm_spec_parse(char *arg, enum vm_spec_form form, struct vm_spec *out,
    char *err, size_t errlen)
{
	bool seen[KEY__COUNT] = { false };
	char *tok, *save = NULL, *eq;
	enum vm_key k;

	memset(out, 0, sizeof(*out));
	vm_groups_default(&out->groups);
	for (tok = strtok_r(arg, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(tok, '=')) == NULL || eq[1] == '\0') {
			snprintf(err, errlen, "'%s': want KEY=VALUE", tok);
			return -1;
		}
		*eq = '\0';
		if ((k = lookup(tok, form)) == KEY__COUNT) {
			snprintf(err, errlen, "unknown key '%s' (keys: %s)",
			    tok, form_keys[form]);
			return -1;
		}
		if (seen[k] && k != KEY_GUEST) {
			snprintf(err, errlen, "'%s' given twice", tok);
			return -1;
		}
		seen[k] = true;
		if (set_key(out, k, eq + 1, err, errlen) < 0)
			return -1;
	}
	return check_required(out, seen, form, err, errlen);
}

/* Do a and b name the same path (both given)? */
static bool
same_path(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Is VM i's CID, socket or uds path one of an earlier VM's? */
static int
check_pair(const struct vm_spec *v, unsigned i, unsigned j, char *err,
    size_t errlen)
{
	if (v[i].cid == v[j].cid)
		snprintf(err, errlen, "guest CID %llu given twice",
		    (unsigned long long)v[i].cid);
	else if (same_path(v[i].socket, v[j].socket))
		snprintf(err, errlen, "socket %s given twice", v[i].socket);
	else if (same_path(v[i].uds, v[j].uds))
		snprintf(err, errlen, "uds path %s given twice", v[i].uds);
	else if (same_path(v[i].socket, v[j].uds) ||
	    same_path(v[i].uds, v[j].socket))
		snprintf(err, errlen, "%s is both a socket and a uds path",
		    same_path(v[i].socket, v[j].uds) ? v[i].socket : v[i].uds);
	else
		return 0;
	return -1;
}

int
vm_specs_check(const struct vm_spec *v, unsigned n, char *err, size_t errlen)
{
	unsigned i, j;

	for (i = 0; i < n; i++) {
		if (!vsock_cid_valid(v[i].cid)) {
			snprintf(err, errlen, "guest CID %llu: not a usable "
			    "guest CID (0, 1, 2 and 0xffffffff are reserved, "
			    "above 32 bits unsupported)",
			    (unsigned long long)v[i].cid);
			return -1;
		}
		if (same_path(v[i].socket, v[i].uds)) {
			snprintf(err, errlen, "%s is both a socket and a uds "
			    "path", v[i].uds);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (check_pair(v, i, j, err, errlen) < 0)
				return -1;
	}
	return 0;
}
