// Memory latency on this machine (a benchmark, not a test): for buffers of 1 to 64 MiB, the time of a dependent
// random read (a pointer chase over one pointer per cache line, in random order) and of eight independent chases
// interleaved, whose misses overlap. This is what bounds a lookup in RingStream's dedup index (32 MiB by default).
// Each size is measured twice, side by side: in ordinary 4 KiB pages, and in 2 MiB pages asked for with
// madvise(MADV_HUGEPAGE) (transparent huge pages in "madvise" mode), which a random read misses the TLB far less in.
//
//   gcc -O2 deploy/bench/memlat.c -o /tmp/memlat && /tmp/memlat
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <sys/mman.h>
// The kB of this process's memory in transparent huge pages, from /proc/self/smaps_rollup (-1 if unreadable).
static long hugeKB(){
  FILE*f=fopen("/proc/self/smaps_rollup","r");char line[256];long kb=-1;
  if(!f)return -1;
  while(fgets(line,sizeof line,f))if(sscanf(line,"AnonHugePages: %ld kB",&kb)==1)break;
  fclose(f);return kb;
}
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  size_t sizes[]={1<<20,2<<20,4<<20,8<<20,16<<20,32<<20,64<<20};
  for(int s=0;s<14;s++){
    int huge=s%2; size_t size=sizes[s/2];
    size_t n=size/64; // one pointer per cache line
    uint64_t*a=aligned_alloc(2<<20,size);
    if(huge&&madvise(a,size,MADV_HUGEPAGE)!=0){perror("madvise");return 1;}
    uint32_t*perm=malloc(n*4);
    for(size_t i=0;i<n;i++)perm[i]=i;
    srand(1);
    for(size_t i=n-1;i>0;i--){size_t j=((size_t)rand()*RAND_MAX+rand())%(i+1);uint32_t t=perm[i];perm[i]=perm[j];perm[j]=t;}
    for(size_t i=0;i<n;i++)a[perm[i]*8]=perm[(i+1)%n]*8;
    uint64_t p=0; size_t iters=4000000;
    for(size_t i=0;i<n;i++)p=a[p];
    double t0=now();
    for(size_t i=0;i<iters;i++)p=a[p];
    double t1=now();
    // independent: 8 parallel chains
    uint64_t q[8];for(int k=0;k<8;k++)q[k]=perm[k*(n/8)]*8;
    double t2=now();
    for(size_t i=0;i<iters/8;i++)for(int k=0;k<8;k++)q[k]=a[q[k]];
    double t3=now();
    printf("%3zu MiB %s pages (%ld kB in huge pages): dependent %.1f ns, 8 parallel %.1f ns/load (%lu)\n",size>>20,huge?"2 MiB":"4 KiB",hugeKB(),(t1-t0)/iters*1e9,(t3-t2)/iters*1e9,(unsigned long)(p+q[0]+q[7]));
    free(a);free(perm);
  }
}
