/* Hash map helpers shared by the BPF objects. */
#ifndef RTMON_MAP_HELPERS_BPF_H
#define RTMON_MAP_HELPERS_BPF_H

/* The entry for key in map, created with the value *init if there is none; NULL if it cannot be
 * created (the map is full). BPF_NOEXIST: another CPU may create the same entry between the lookup
 * and the update; its entry (maybe already updated) is kept, not overwritten, and the second
 * lookup returns it. The map is passed as void *: the helper is __always_inline, so the verifier
 * still sees the caller's constant map pointer. */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

#endif
